using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eplb;

/// <summary>
/// The descending sort that decides every tie in <c>eplb.py</c>: <c>torch.sort(row, descending=True)</c> on CPU,
/// which is libstdc++'s <c>std::sort</c> (introsort) over (value, index) pairs comparing values only.
/// </summary>
/// <remarks>
/// Introsort is not stable, so equal loads come out in an order only this exact procedure reproduces
/// (see docs/reference-parity.md). Each element is one <see cref="ulong"/> key: the value's IEEE bits in the
/// high half, the original index in the low half. For non-negative floats the bit pattern orders like the
/// value, so "a before b" (a's value greater) is <c>a &gt; (b | 0xFFFFFFFF)</c>: one OR and one compare that
/// ignores the index, and a swap moves value and index together.
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

        ref ulong k = ref MemoryMarshal.GetReference(keys);
        IntroSortLoop(ref k, 0, n, 2 * System.Numerics.BitOperations.Log2((uint)n));
        FinalInsertionSort(ref k, n);
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
    }

    // std::__unguarded_partition_pivot: median of (first+1, mid, last-1) moved to first, then Hoare.
    private static int PartitionAroundMedian(ref ulong k, int first, int last)
    {
        int mid = first + ((last - first) / 2);
        MoveMedianToFirst(ref k, first, first + 1, mid, last - 1);

        // The pivot stays at `first` while [first+1, last) is partitioned. libstdc++'s median-of-three
        // guarantees both scans stop inside the range, which is why they need no bounds checks.
        ulong pivot = At(ref k, first);
        ulong pivotMasked = pivot | IndexMask;
        int lo = first + 1;
        int hi = last;
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

    private static void FinalInsertionSort(ref ulong k, int n)
    {
        if (n > Threshold)
        {
            InsertionSort(ref k, Threshold);
            for (int i = Threshold; i < n; i++)
            {
                UnguardedLinearInsert(ref k, i);
            }
        }
        else
        {
            InsertionSort(ref k, n);
        }
    }

    private static void InsertionSort(ref ulong k, int n)
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
                UnguardedLinearInsert(ref k, i);
            }
        }
    }

    // Unguarded: after introsort the smallest element sits in the first Threshold slots, so the scan stops.
    private static void UnguardedLinearInsert(ref ulong k, int last)
    {
        ulong value = At(ref k, last);
        int next = last - 1;
        while (Before(value, At(ref k, next)))
        {
            At(ref k, last) = At(ref k, next);
            last = next;
            next--;
        }

        At(ref k, last) = value;
    }
}
