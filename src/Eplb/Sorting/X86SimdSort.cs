using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eplb;

/// <summary>
/// The tie order of <c>torch.sort(row, descending=True)</c> in PyTorch after 2.7 on x86 CPUs: Intel's x86-simd-sort,
/// <c>keyvalue_qsort&lt;float, int64_t&gt;(keys, indices, n, hasnan, descending)</c>, emulated step by step for a lane
/// count (8 for the AVX-512 build, 4 for AVX2) on any machine.
/// </summary>
/// <remarks>
/// <para>
/// The procedure (docs/reference-parity.md, "Which sort?"): sort ascending, then reverse keys and indices. The
/// quicksort recursion runs to a depth of <c>int(2 · log2 n)</c> and falls back to a heap sort
/// (<see cref="HeapSort"/>) there; ranges of at most 128 items go through a bitonic network
/// (<see cref="BitonicNetwork"/>), larger ones are split around a pivot (<see cref="SimdPivot"/>) by the vector
/// partition (<see cref="SimdPartition"/>), whose store order is where the two builds differ.
/// </para>
/// <para>
/// Keys are <see cref="SortKey"/>s; the sort compares their loads only, as the original compares float keys only.
/// Load bits of non-negative floats order like the values, so loads are compared as <see cref="uint"/>s.
/// </para>
/// </remarks>
internal static class X86SimdSort
{
    /// <summary>The largest range the bitonic network sorts.</summary>
    public const int NetworkMax = 128;

    /// <summary>Sorts by load, largest first, as x86-simd-sort with <paramref name="lanes"/> lanes does.</summary>
    public static void SortDescending(Span<SortKey> keys, int lanes)
    {
        int n = keys.Length;
        if (n < 2)
        {
            return;
        }

        ref ulong k = ref Unsafe.As<SortKey, ulong>(ref MemoryMarshal.GetReference(keys));
        Sort(ref k, 0, n - 1, (int)(2 * Math.Log2(n)), lanes);
        keys.Reverse();
    }

    /// <summary>A key's load bits: its order is the float order of the load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Load(ulong key) => (uint)(key >> 32);

    // kvsort_: [left, right] inclusive.
    private static void Sort(ref ulong k, int left, int right, int depth, int lanes)
    {
        if (depth <= 0)
        {
            HeapSort(ref KeyRow.At(ref k, left), right - left + 1);
            return;
        }

        int count = right + 1 - left;
        if (count <= NetworkMax)
        {
            BitonicNetwork.SortAscending(ref KeyRow.At(ref k, left), count);
            return;
        }

        SimdPivot pivot = SimdPivot.Choose(ref k, left, right, lanes);
        if (pivot.Kind == SimdPivotKind.Sorted)
        {
            return;
        }

        int split = SimdPartition.Partition(ref k, left, right + 1, pivot.Load, lanes, out uint smallest, out uint biggest);
        if (pivot.Kind == SimdPivotKind.OnlyTwoValues)
        {
            return;
        }

        if (pivot.Load != smallest)
        {
            Sort(ref k, left, split - 1, depth - 1, lanes);
        }

        if (pivot.Load != biggest)
        {
            Sort(ref k, split, right, depth - 1, lanes);
        }
    }

    /// <summary>
    /// x86-simd-sort's heap sort of <paramref name="size"/> keys, ascending: a max-heap whose sift prefers the left
    /// child on a tie and swaps a parent with an equal child.
    /// </summary>
    internal static void HeapSort(ref ulong k, int size)
    {
        if (size <= 1)
        {
            return;
        }

        for (int i = (size / 2) - 1; i >= 0; i--)
        {
            Sift(ref k, i, size);
        }

        for (int end = size - 1; end > 0; end--)
        {
            KeyRow.Swap(ref k, 0, end);
            Sift(ref k, 0, end);
        }
    }

    private static void Sift(ref ulong k, int root, int size)
    {
        while (true)
        {
            int child = (2 * root) + 1;
            if (child >= size)
            {
                return;
            }

            if (child + 1 < size && Load(KeyRow.At(ref k, child)) < Load(KeyRow.At(ref k, child + 1)))
            {
                child++;
            }

            if (Load(KeyRow.At(ref k, child)) < Load(KeyRow.At(ref k, root)))
            {
                return;
            }

            KeyRow.Swap(ref k, root, child);
            root = child;
        }
    }
}

/// <summary>The tie order of x86-simd-sort's AVX-512 build (8 lanes).</summary>
internal readonly struct X86SimdSortAvx512 : IDescendingSort
{
    /// <inheritdoc/>
    public static void SortDescending(Span<SortKey> keys) => X86SimdSort.SortDescending(keys, lanes: 8);
}

/// <summary>The tie order of x86-simd-sort's AVX2 build (4 lanes).</summary>
internal readonly struct X86SimdSortAvx2 : IDescendingSort
{
    /// <inheritdoc/>
    public static void SortDescending(Span<SortKey> keys) => X86SimdSort.SortDescending(keys, lanes: 4);
}
