using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;

namespace Eplb;

/// <summary>
/// The descending sort that decides every tie in <c>eplb.py</c>: <c>torch.sort(row, descending=True)</c> on CPU,
/// which is libstdc++'s <c>std::sort</c> (introsort) over (value, index) pairs comparing values only.
/// </summary>
/// <remarks>
/// <para>
/// Introsort is not stable, so equal loads come out in an order only this exact procedure reproduces
/// (see docs/reference-parity.md). Each element is one <see cref="ulong"/> key: the value's IEEE bits in the
/// high half, the original index in the low half. For non-negative floats the bit pattern orders like the
/// value, so "a before b" (a's value greater) is <c>a &gt; (b | 0xFFFFFFFF)</c>: one OR and one compare that
/// ignores the index, and a swap moves value and index together.
/// </para>
/// <para>
/// libstdc++ ends with an insertion sort over the whole array. Every partition leaves each element of its left
/// part at least as large as each element of its right part, so that pass never moves an element out of the
/// run of at most 16 that the partitioning left it in (heap-sorted ranges are already in order), and an
/// insertion sort with a strict comparator is stable. The final pass is therefore exactly "stable-sort each
/// leftover run", which this port does as soon as a run is left, where it is still in cache, and without
/// branches: each element's place is its stable rank, counted with vector compares (<see cref="SortRun"/>).
/// </para>
/// </remarks>
internal static class ReferenceSort
{
    /// <summary>libstdc++'s <c>_S_threshold</c>: below it introsort stops partitioning.</summary>
    private const int Threshold = 16;
    private const ulong IndexMask = 0xFFFF_FFFFUL;

    /// <summary>Packs a non-negative load and its index into one sort key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong MakeKey(float value, int index)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        // -0.0 compares equal to +0.0 in the reference; fold it so the bit order is the value order.
        if (bits == 0x8000_0000u)
        {
            bits = 0;
        }

        return ((ulong)bits << 32) | (uint)index;
    }

    /// <summary>
    /// <see cref="MakeKey"/> for a whole row: <c>keys[i] = (bits of values[i], i)</c>, with the value bits complemented
    /// when <paramref name="complementValues"/> is set (so that an unsigned minimum finds the largest value).
    /// Eight keys per step where vectors are accelerated.
    /// </summary>
    public static void MakeKeys(ReadOnlySpan<float> values, Span<ulong> keys, bool complementValues)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> negativeZero = Vector256.Create(0x8000_0000u);
            Vector256<uint> flip = complementValues ? Vector256<uint>.AllBitsSet : Vector256<uint>.Zero;
            Vector256<ulong> index = Vector256.Create(0UL, 1, 2, 3);
            Vector256<ulong> four = Vector256.Create(4UL), eight = Vector256.Create(8UL);
            for (; i <= values.Length - 8; i += 8)
            {
                Vector256<uint> bits = Vector256.Create(values.Slice(i, 8)).AsUInt32();
                bits = Vector256.AndNot(bits, Vector256.Equals(bits, negativeZero)) ^ flip;
                (Vector256<ulong> lower, Vector256<ulong> upper) = Vector256.Widen(bits);
                (Vector256.ShiftLeft(lower, 32) | index).CopyTo(keys.Slice(i, 4));
                (Vector256.ShiftLeft(upper, 32) | (index + four)).CopyTo(keys.Slice(i + 4, 4));
                index += eight;
            }
        }

        for (; i < values.Length; i++)
        {
            ulong key = MakeKey(values[i], i);
            keys[i] = complementValues ? key ^ ~IndexMask : key;
        }
    }

    /// <summary>A key with its index cleared: the value's bits, in the high half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ValueBitsOf(ulong key) => key & ~IndexMask;

    /// <summary>The original index carried by a key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int IndexOf(ulong key) => (int)(uint)key;

    /// <summary>
    /// Sorts keys by value, descending, breaking ties exactly as <c>torch.sort(descending=True)</c> does.
    /// </summary>
    public static void SortDescending(Span<ulong> keys)
    {
        int n = keys.Length;
        if (n < 2)
        {
            return;
        }

        IntroSortLoop(ref MemoryMarshal.GetReference(keys), 0, n, 2 * System.Numerics.BitOperations.Log2((uint)n));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Before(ulong a, ulong b) => a > (b | IndexMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref ulong At(ref ulong k, int i) => ref Unsafe.Add(ref k, (nint)(uint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Swap(ref ulong k, int i, int j)
    {
        ref ulong a = ref At(ref k, i);
        ref ulong b = ref At(ref k, j);
        (a, b) = (b, a);
    }

    private static void IntroSortLoop(ref ulong k, int first, int last, int depthLimit)
    {
        while (last - first > Threshold)
        {
            if (depthLimit == 0)
            {
                HeapSort(ref At(ref k, first), last - first);
                return;
            }

            depthLimit--;
            int cut = PartitionAroundMedian(ref k, first, last);
            IntroSortLoop(ref k, cut, last, depthLimit);
            last = cut;
        }

        SortRun(ref At(ref k, first), last - first);
    }

    // std::__unguarded_partition_pivot: median of (first+1, mid, last-1) moved to first, then Hoare.
    private static int PartitionAroundMedian(ref ulong k, int first, int last)
    {
        int mid = first + ((last - first) / 2);
        MoveMedianToFirst(ref k, first, first + 1, mid, last - 1);
        return Vector256.IsHardwareAccelerated
            ? PartitionInBlocks(ref k, first, last)
            : Partition(ref k, At(ref k, first), first + 1, last);
    }

    /// <summary>
    /// libstdc++'s unguarded Hoare loop over <c>[lo, hi)</c>, the pivot excluded: the left scan stops on a key
    /// not before the pivot, the right scan on a key the pivot is not before; the two are swapped until the
    /// scans cross. libstdc++'s median-of-three guarantees both scans stop inside the range, which is why they
    /// need no bounds checks.
    /// </summary>
    private static int Partition(ref ulong k, ulong pivot, int lo, int hi)
    {
        ulong pivotMasked = pivot | IndexMask;
        while (true)
        {
            while (At(ref k, lo) > pivotMasked)
            {
                lo++;
            }

            hi--;
            while (pivot > (At(ref k, hi) | IndexMask))
            {
                hi--;
            }

            if (lo >= hi)
            {
                return lo;
            }

            Swap(ref k, lo, hi);
            lo++;
        }
    }

    /// <summary>
    /// The same partition, with the same swaps in the same order, but found eight keys at a time with vector
    /// compares instead of one mispredicted branch per key.
    /// </summary>
    /// <remarks>
    /// Hoare swaps the i-th key from the left that stops the left scan with the i-th key from the right that
    /// stops the right scan, for as long as the first lies left of the second. While the unscanned middle still
    /// holds a whole block, a left block lies left of every right block and holds original keys (swaps only
    /// touch keys already scanned), so each block's stoppers are one compare mask, and pairing masks lowest bit
    /// left, highest bit right, is exactly Hoare's order. Once the middle is shorter than a block, the scalar
    /// loop takes over from the very state Hoare would be in: the left scan at its next pending stopper (or the
    /// middle's start), the right scan likewise.
    /// </remarks>
    private static int PartitionInBlocks(ref ulong k, int first, int last)
    {
        const int Block = 8;
        ulong pivot = At(ref k, first);

        // Keys are below 2^63 (non-negative float bits in the high half), so signed compares order them.
        Vector256<long> pivotMasked = Vector256.Create((long)(pivot | IndexMask));
        Vector256<long> pivotLess = Vector256.Create((long)pivot - 1);
        Vector256<long> indexMask = Vector256.Create((long)IndexMask);
        ref long keys = ref Unsafe.As<ulong, long>(ref k);

        int left = first + 1, right = last; // the unscanned middle
        int leftBlock = 0, rightBlock = 0;
        uint leftStops = 0, rightStops = 0; // stoppers of the current blocks not yet swapped
        while (true)
        {
            if (leftStops == 0)
            {
                if (right - left < Block)
                {
                    break;
                }

                // Stops the left scan: not before the pivot, key <= pivot | mask.
                Vector256<long> a = Vector256.LoadUnsafe(ref keys, (nuint)left);
                Vector256<long> b = Vector256.LoadUnsafe(ref keys, (nuint)(left + 4));
                leftStops = ~(Vector256.GreaterThan(a, pivotMasked).ExtractMostSignificantBits()
                    | (Vector256.GreaterThan(b, pivotMasked).ExtractMostSignificantBits() << 4)) & 0xFF;
                leftBlock = left;
                left += Block;
                continue;
            }

            if (rightStops == 0)
            {
                if (right - left < Block)
                {
                    break;
                }

                // Stops the right scan: the pivot is not before it, (key | mask) >= pivot, i.e. > pivot - 1.
                right -= Block;
                Vector256<long> a = Vector256.LoadUnsafe(ref keys, (nuint)right) | indexMask;
                Vector256<long> b = Vector256.LoadUnsafe(ref keys, (nuint)(right + 4)) | indexMask;
                rightStops = Vector256.GreaterThan(a, pivotLess).ExtractMostSignificantBits()
                    | (Vector256.GreaterThan(b, pivotLess).ExtractMostSignificantBits() << 4);
                rightBlock = right;
                continue;
            }

            do
            {
                int i = leftBlock + System.Numerics.BitOperations.TrailingZeroCount(leftStops);
                int j = rightBlock + 31 - System.Numerics.BitOperations.LeadingZeroCount(rightStops);
                Swap(ref k, i, j);
                leftStops &= leftStops - 1;
                rightStops ^= 1u << (j - rightBlock);
            }
            while (leftStops != 0 && rightStops != 0);
        }

        int lo = leftStops != 0 ? leftBlock + System.Numerics.BitOperations.TrailingZeroCount(leftStops) : left;
        int hi = rightStops != 0 ? rightBlock + 32 - System.Numerics.BitOperations.LeadingZeroCount(rightStops) : right;
        return Partition(ref k, pivot, lo, hi);
    }

    private static void MoveMedianToFirst(ref ulong k, int result, int a, int b, int c)
    {
        ulong va = At(ref k, a), vb = At(ref k, b), vc = At(ref k, c);
        int median;
        if (Before(va, vb))
        {
            median = Before(vb, vc) ? b : Before(va, vc) ? c : a;
        }
        else
        {
            median = Before(va, vc) ? a : Before(vb, vc) ? c : b;
        }

        Swap(ref k, result, median);
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
            AdjustHeap(ref k, parent, len, At(ref k, parent));
            if (parent == 0)
            {
                break;
            }
        }

        for (int last = len - 1; last > 0; last--)
        {
            ulong value = At(ref k, last);
            At(ref k, last) = At(ref k, 0);
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
            if (Before(At(ref k, child), At(ref k, child - 1)))
            {
                child--;
            }

            At(ref k, hole) = At(ref k, child);
            hole = child;
        }

        if ((len & 1) == 0 && child == (len - 2) / 2)
        {
            child = 2 * (child + 1);
            At(ref k, hole) = At(ref k, child - 1);
            hole = child - 1;
        }

        // std::__push_heap
        int parent = (hole - 1) / 2;
        while (hole > top && Before(At(ref k, parent), value))
        {
            At(ref k, hole) = At(ref k, parent);
            hole = parent;
            parent = (hole - 1) / 2;
        }

        At(ref k, hole) = value;
    }

    /// <summary>
    /// Stable descending sort of a leftover run of at most <see cref="Threshold"/> keys: what libstdc++'s final
    /// insertion sort does to it.
    /// </summary>
    internal static void SortRun(ref ulong run, int n)
    {
        if (n < 2)
        {
            return;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            SortRunByRank512(ref run, n);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            SortRunByRank(ref run, n);
        }
        else
        {
            InsertionSort(ref run, n);
        }
    }

    /// <summary>
    /// Each key goes to its stable rank: the number of larger keys plus the number of equal keys before it,
    /// counted 4 at a time with AVX2 compares and no data-dependent branch. With every key's low half forced
    /// to ones (<c>a' = a | 0xFFFFFFFF</c>), "larger, or equal and earlier" is one signed compare
    /// <c>a'[j] &gt; t[j]</c> with <c>t[j] = a'[i] - (j &lt; i ? 1 : 0)</c>; keys stay below 2^63 because load
    /// bits are those of finite non-negative floats.
    /// </summary>
    internal static void SortRunByRank(ref ulong run, int n)
    {
        Debug.Assert(n <= Threshold, "runs left by introsort are at most 16 long");
        Span<ulong> copy = stackalloc ulong[Threshold];
        copy.Clear(); // padding: value 0 is never larger, and sits after every real key
        MemoryMarshal.CreateReadOnlySpan(ref run, n).CopyTo(copy);

        Vector256<long> mask = Vector256.Create((long)IndexMask);
        ref long c = ref Unsafe.As<ulong, long>(ref MemoryMarshal.GetReference(copy));
        Vector256<long> a0 = Vector256.LoadUnsafe(ref c, 0) | mask;
        Vector256<long> a1 = Vector256.LoadUnsafe(ref c, 4) | mask;
        Vector256<long> a2 = Vector256.LoadUnsafe(ref c, 8) | mask;
        Vector256<long> a3 = Vector256.LoadUnsafe(ref c, 12) | mask;
        Vector256<long> j0 = Vector256.Create(0L, 1, 2, 3);
        Vector256<long> j1 = Vector256.Create(4L, 5, 6, 7);
        Vector256<long> j2 = Vector256.Create(8L, 9, 10, 11);
        Vector256<long> j3 = Vector256.Create(12L, 13, 14, 15);

        for (int i = 0; i < n; i++)
        {
            Vector256<long> key = Vector256.Create((long)(copy[i] | IndexMask));
            Vector256<long> index = Vector256.Create((long)i);

            // j < i gives an all-ones lane, which is -1: the threshold drops by one and "equal" counts too.
            uint ahead =
                Vector256.GreaterThan(a0, key + Vector256.GreaterThan(index, j0)).ExtractMostSignificantBits()
                | (Vector256.GreaterThan(a1, key + Vector256.GreaterThan(index, j1)).ExtractMostSignificantBits() << 4)
                | (Vector256.GreaterThan(a2, key + Vector256.GreaterThan(index, j2)).ExtractMostSignificantBits() << 8)
                | (Vector256.GreaterThan(a3, key + Vector256.GreaterThan(index, j3)).ExtractMostSignificantBits() << 12);
            At(ref run, System.Numerics.BitOperations.PopCount(ahead)) = copy[i];
        }
    }

    /// <summary><see cref="SortRunByRank"/> with AVX-512: 8 keys per compare, so a run is two vectors.</summary>
    internal static void SortRunByRank512(ref ulong run, int n)
    {
        Debug.Assert(n <= Threshold, "runs left by introsort are at most 16 long");
        Span<ulong> copy = stackalloc ulong[Threshold];
        copy.Clear(); // padding: value 0 is never larger, and sits after every real key
        MemoryMarshal.CreateReadOnlySpan(ref run, n).CopyTo(copy);

        Vector512<long> mask = Vector512.Create((long)IndexMask);
        ref long c = ref Unsafe.As<ulong, long>(ref MemoryMarshal.GetReference(copy));
        Vector512<long> a0 = Vector512.LoadUnsafe(ref c, 0) | mask;
        Vector512<long> a1 = Vector512.LoadUnsafe(ref c, 8) | mask;
        Vector512<long> j0 = Vector512.Create(0L, 1, 2, 3, 4, 5, 6, 7);
        Vector512<long> j1 = Vector512.Create(8L, 9, 10, 11, 12, 13, 14, 15);

        for (int i = 0; i < n; i++)
        {
            Vector512<long> key = Vector512.Create((long)(copy[i] | IndexMask));
            Vector512<long> index = Vector512.Create((long)i);
            ulong ahead =
                Vector512.GreaterThan(a0, key + Vector512.GreaterThan(index, j0)).ExtractMostSignificantBits()
                | (Vector512.GreaterThan(a1, key + Vector512.GreaterThan(index, j1)).ExtractMostSignificantBits() << 8);
            At(ref run, System.Numerics.BitOperations.PopCount(ahead)) = copy[i];
        }
    }

    /// <summary>libstdc++'s <c>__insertion_sort</c>: the reference behaviour, and the fallback without AVX2.</summary>
    internal static void InsertionSort(ref ulong k, int n)
    {
        for (int i = 1; i < n; i++)
        {
            ulong value = At(ref k, i);
            if (Before(value, At(ref k, 0)))
            {
                // move_backward [0, i) by one, then put the value first.
                for (int j = i; j > 0; j--)
                {
                    At(ref k, j) = At(ref k, j - 1);
                }

                At(ref k, 0) = value;
            }
            else
            {
                // Unguarded: the first key is not after the value, so the scan stops.
                int last = i, next = i - 1;
                while (Before(value, At(ref k, next)))
                {
                    At(ref k, last) = At(ref k, next);
                    last = next;
                    next--;
                }

                At(ref k, last) = value;
            }
        }
    }
}
