using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eplb;

/// <summary>
/// The tie order of <c>torch.sort(row, descending=True)</c> on CPU in PyTorch up to 2.7 and on non-x86 builds:
/// libstdc++'s <c>std::sort</c> (introsort) over (value, index) pairs, comparing values only.
/// </summary>
/// <remarks>
/// <para>
/// Introsort is not stable, so equal loads come out in an order only this exact procedure reproduces
/// (docs/reference-parity.md, "The reference sort"): the introsort loop with libstdc++'s median of three and
/// unguarded Hoare partition (<see cref="HoarePartition"/>), heap sort past the depth limit, and a final insertion
/// sort.
/// </para>
/// <para>
/// That final insertion sort runs over the whole array. Every partition leaves each element of its left part at
/// least as large as each element of its right part, so the pass never moves an element out of the run of at most
/// 16 that partitioning left it in (heap-sorted ranges are already in order), and an insertion sort with a strict
/// comparator is stable. The final pass is therefore exactly "stable-sort each leftover run", which this port does
/// as soon as a run is left, while it is still in cache (<see cref="LeftoverRuns"/>).
/// </para>
/// </remarks>
internal readonly struct LibStdCxxSort : IDescendingSort
{
    /// <summary>libstdc++'s <c>_S_threshold</c>: below it introsort stops partitioning.</summary>
    public const int Threshold = 16;

    /// <inheritdoc/>
    public static void SortDescending(Span<SortKey> keys)
    {
        int n = keys.Length;
        if (n < 2)
        {
            return;
        }

        ref ulong k = ref Unsafe.As<SortKey, ulong>(ref MemoryMarshal.GetReference(keys));
        IntroSortLoop(ref k, 0, n, 2 * System.Numerics.BitOperations.Log2((uint)n));
    }

    private static void IntroSortLoop(ref ulong k, int first, int last, int depthLimit)
    {
        while (last - first > Threshold)
        {
            if (depthLimit == 0)
            {
                HeapSort(ref KeyRow.At(ref k, first), last - first);
                return;
            }

            depthLimit--;
            int cut = PartitionAroundMedian(ref k, first, last);
            IntroSortLoop(ref k, cut, last, depthLimit);
            last = cut;
        }

        LeftoverRuns.SortRun(ref KeyRow.At(ref k, first), last - first);
    }

    // std::__unguarded_partition_pivot: median of (first+1, mid, last-1) moved to first, then Hoare.
    private static int PartitionAroundMedian(ref ulong k, int first, int last)
    {
        int mid = first + ((last - first) / 2);
        MoveMedianToFirst(ref k, first, first + 1, mid, last - 1);
        return HoarePartition.Partition(ref k, first, last);
    }

    private static void MoveMedianToFirst(ref ulong k, int result, int a, int b, int c)
    {
        ulong va = KeyRow.At(ref k, a), vb = KeyRow.At(ref k, b), vc = KeyRow.At(ref k, c);
        int median;
        if (SortKey.IsBefore(va, vb))
        {
            median = SortKey.IsBefore(vb, vc) ? b : SortKey.IsBefore(va, vc) ? c : a;
        }
        else
        {
            median = SortKey.IsBefore(va, vc) ? a : SortKey.IsBefore(vb, vc) ? c : b;
        }

        KeyRow.Swap(ref k, result, median);
    }

    // std::__partial_sort(first, last, last): make_heap then sort_heap, with libstdc++'s hole-moving heap.
    private static void HeapSort(ref ulong k, int len)
    {
        if (len < 2)
        {
            return;
        }

        for (int parent = (len - 2) / 2; ; parent--)
        {
            AdjustHeap(ref k, parent, len, KeyRow.At(ref k, parent));
            if (parent == 0)
            {
                break;
            }
        }

        for (int last = len - 1; last > 0; last--)
        {
            ulong value = KeyRow.At(ref k, last);
            KeyRow.At(ref k, last) = KeyRow.At(ref k, 0);
            AdjustHeap(ref k, 0, last, value);
        }
    }

    private static void AdjustHeap(ref ulong k, int hole, int len, ulong value)
    {
        int top = hole;
        int child = hole;
        while (child < (len - 1) / 2)
        {
            child = 2 * (child + 1);
            if (SortKey.IsBefore(KeyRow.At(ref k, child), KeyRow.At(ref k, child - 1)))
            {
                child--;
            }

            KeyRow.At(ref k, hole) = KeyRow.At(ref k, child);
            hole = child;
        }

        if ((len & 1) == 0 && child == (len - 2) / 2)
        {
            child = 2 * (child + 1);
            KeyRow.At(ref k, hole) = KeyRow.At(ref k, child - 1);
            hole = child - 1;
        }

        // std::__push_heap
        int parent = (hole - 1) / 2;
        while (hole > top && SortKey.IsBefore(KeyRow.At(ref k, parent), value))
        {
            KeyRow.At(ref k, hole) = KeyRow.At(ref k, parent);
            hole = parent;
            parent = (hole - 1) / 2;
        }

        KeyRow.At(ref k, hole) = value;
    }
}
