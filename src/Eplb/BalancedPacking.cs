using System.Buffers;
using System.Runtime.CompilerServices;

namespace Eplb;

/// <summary>
/// Packs weighted items into packs of equal item count so that pack weights are as even as the greedy allows:
/// the port of <c>balanced_packing</c> in DeepSeek's <c>eplb.py</c>.
/// </summary>
/// <remarks>
/// Items are visited heaviest first (in the reference sort's exact order, ties included); each goes to the
/// lightest pack that still has room, the lowest pack index on equal load. Loads are summed in
/// <see cref="float"/>, in visiting order, exactly as the reference does. When every pack takes one item,
/// item <c>i</c> goes to pack <c>i</c> with no sorting at all, as in the reference.
/// </remarks>
public static class BalancedPacking
{
    // Up to this many packs a linear scan beats the heap's bookkeeping.
    private const int LinearScanMaxPacks = 16;

    /// <summary>
    /// Packs one row of items: <c>balanced_packing</c> for a single row of its <c>[X, n]</c> input.
    /// </summary>
    /// <param name="weight">The weight of each item (<c>n</c> items): finite and non-negative.</param>
    /// <param name="numPacks">The number of packs <c>m</c>; must divide the item count.</param>
    /// <param name="packIndex">Receives each item's pack (<c>pack_index</c>); at least <c>n</c> long.</param>
    /// <param name="rankInPack">Receives each item's position inside its pack (<c>rank_in_pack</c>); at least <c>n</c> long.</param>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numPacks"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="numPacks"/> does not divide the item count.</exception>
    /// <exception cref="ArgumentException"><paramref name="packIndex"/> or <paramref name="rankInPack"/> is shorter than <paramref name="weight"/>.</exception>
    public static void Pack(ReadOnlySpan<float> weight, int numPacks, Span<int> packIndex, Span<int> rankInPack)
    {
        ThrowHelper.ThrowIfEmpty(weight.Length, nameof(weight));
        ThrowHelper.ThrowIfNotPositive(numPacks, nameof(numPacks));
        ThrowHelper.ThrowIfNotMultiple(weight.Length, numPacks, nameof(numPacks), "the item count");
        ThrowHelper.ThrowIfDestinationTooShort(packIndex.Length, weight.Length, nameof(packIndex));
        ThrowHelper.ThrowIfDestinationTooShort(rankInPack.Length, weight.Length, nameof(rankInPack));
        ThrowHelper.ThrowIfInvalidLoads(weight, weight.Length, nameof(weight));

        ulong[] keys = ArrayPool<ulong>.Shared.Rent(weight.Length + numPacks);
        int[] counts = ArrayPool<int>.Shared.Rent(numPacks);
        try
        {
            PackRow(weight, numPacks, packIndex, rankInPack, keys, counts);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    /// <summary>
    /// Packs every row of <c>[X, n]</c> items independently: <c>balanced_packing(weight, num_packs)</c>.
    /// </summary>
    /// <param name="weight">The weights, <c>[X, n]</c>: finite and non-negative.</param>
    /// <param name="numPacks">The number of packs <c>m</c>; must divide <c>n</c>.</param>
    /// <returns><c>(pack_index, rank_in_pack)</c>, both <c>[X, n]</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has no rows or no columns.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numPacks"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="numPacks"/> does not divide <c>n</c>.</exception>
    public static (int[,] PackIndex, int[,] RankInPack) Pack(float[,] weight, int numPacks)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int rows = weight.GetLength(0), n = weight.GetLength(1);
        ThrowHelper.ThrowIfEmpty(rows, nameof(weight));
        ThrowHelper.ThrowIfEmpty(n, nameof(weight));
        ThrowHelper.ThrowIfNotPositive(numPacks, nameof(numPacks));
        ThrowHelper.ThrowIfNotMultiple(n, numPacks, nameof(numPacks), "the item count");
        ReadOnlySpan<float> all = MatrixMarshal.AsSpan(weight);
        ThrowHelper.ThrowIfInvalidLoads(all, n, nameof(weight));

        var packIndex = new int[rows, n];
        var rankInPack = new int[rows, n];
        Span<int> packs = MatrixMarshal.AsSpan(packIndex);
        Span<int> ranks = MatrixMarshal.AsSpan(rankInPack);
        ulong[] keys = ArrayPool<ulong>.Shared.Rent(n + numPacks);
        int[] counts = ArrayPool<int>.Shared.Rent(numPacks);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                PackRow(all.Slice(r * n, n), numPacks, packs.Slice(r * n, n), ranks.Slice(r * n, n), keys, counts);
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
            ArrayPool<int>.Shared.Return(counts);
        }

        return (packIndex, rankInPack);
    }

    /// <summary>The unchecked core. <paramref name="keys"/> holds at least n + m, <paramref name="counts"/> at least m.</summary>
    internal static void PackRow(ReadOnlySpan<float> weight, int numPacks, Span<int> packIndex, Span<int> rankInPack, Span<ulong> keys, Span<int> counts)
    {
        int n = weight.Length;
        int perPack = n / numPacks;
        if (perPack == 1)
        {
            for (int i = 0; i < n; i++)
            {
                packIndex[i] = i;
                rankInPack[i] = 0;
            }

            return;
        }

        Span<ulong> order = keys.Slice(0, n);
        for (int i = 0; i < n; i++)
        {
            order[i] = ReferenceSort.MakeKey(weight[i], i);
        }

        ReferenceSort.SortDescending(order);
        counts = counts.Slice(0, numPacks);
        counts.Clear();
        if (numPacks <= LinearScanMaxPacks)
        {
            PackByScan(weight, order, perPack, packIndex, rankInPack, counts, keys.Slice(n, numPacks));
        }
        else
        {
            PackByHeap(weight, order, perPack, packIndex, rankInPack, counts, keys.Slice(n, numPacks));
        }
    }

    private static void PackByScan(ReadOnlySpan<float> weight, ReadOnlySpan<ulong> order, int perPack, Span<int> packIndex, Span<int> rankInPack, Span<int> counts, Span<ulong> loadScratch)
    {
        Span<float> loads = System.Runtime.InteropServices.MemoryMarshal.Cast<ulong, float>(loadScratch).Slice(0, counts.Length);
        loads.Clear();
        foreach (ulong key in order)
        {
            int item = ReferenceSort.IndexOf(key);
            int best = -1;
            for (int p = 0; p < counts.Length; p++)
            {
                // Strictly lighter wins, so the lowest index wins ties: Python's min() over pack indices.
                if (counts[p] < perPack && (best < 0 || loads[p] < loads[best]))
                {
                    best = p;
                }
            }

            packIndex[item] = best;
            rankInPack[item] = counts[best];
            loads[best] += weight[item];
            counts[best]++;
        }
    }

    // A min-heap of (load bits, pack index) keys: non-negative float bits order like the loads, and the index
    // in the low half makes the lowest pack win ties. A full pack leaves the heap, which is exactly the
    // reference's "among packs with room" filter, in O(log m) per item instead of O(m).
    private static void PackByHeap(ReadOnlySpan<float> weight, ReadOnlySpan<ulong> order, int perPack, Span<int> packIndex, Span<int> rankInPack, Span<int> counts, Span<ulong> heap)
    {
        int size = heap.Length;
        for (int p = 0; p < size; p++)
        {
            heap[p] = (uint)p; // all loads zero: ordered by index, already a heap
        }

        foreach (ulong key in order)
        {
            int item = ReferenceSort.IndexOf(key);
            ulong top = heap[0];
            int pack = (int)(uint)top;
            float load = BitConverter.UInt32BitsToSingle((uint)(top >> 32)) + weight[item];
            packIndex[item] = pack;
            rankInPack[item] = counts[pack];
            if (++counts[pack] == perPack)
            {
                heap[0] = heap[--size];
            }
            else
            {
                heap[0] = ReferenceSort.MakeKey(load, pack);
            }

            SiftDownMin(heap.Slice(0, size));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SiftDownMin(Span<ulong> heap)
    {
        int n = heap.Length;
        if (n == 0)
        {
            return;
        }

        ulong value = heap[0];
        int hole = 0;
        while (true)
        {
            int child = (2 * hole) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && heap[child + 1] < heap[child])
            {
                child++;
            }

            if (heap[child] >= value)
            {
                break;
            }

            heap[hole] = heap[child];
            hole = child;
        }

        heap[hole] = value;
    }
}
