using System.Buffers;
using System.Diagnostics;
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

        PackRows(weight, weight.Length, numPacks, packIndex, rankInPack);
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
        PackRows(all, n, numPacks, MatrixMarshal.AsSpan(packIndex), MatrixMarshal.AsSpan(rankInPack));
        return (packIndex, rankInPack);
    }

    // Validated rows of n items each, with pooled scratch.
    private static void PackRows(ReadOnlySpan<float> weight, int n, int numPacks, Span<int> packIndex, Span<int> rankInPack)
    {
        ulong[] keys = ArrayPool<ulong>.Shared.Rent(ScratchLength(n, numPacks));
        int[] counts = ArrayPool<int>.Shared.Rent(numPacks);
        try
        {
            for (int row = 0; row < weight.Length / n; row++)
            {
                PackRow(weight.Slice(row * n, n), numPacks, packIndex.Slice(row * n, n), rankInPack.Slice(row * n, n), keys, counts);
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    /// <summary>Scratch <see cref="PackRow"/> needs: the sort keys plus a tournament tree over the packs.</summary>
    internal static int ScratchLength(int items, int packs) => items + TournamentTree.Length(packs);

    /// <summary>The unchecked core. <paramref name="keys"/> holds at least <see cref="ScratchLength"/> entries, <paramref name="counts"/> at least m.</summary>
    internal static void PackRow(ReadOnlySpan<float> weight, int numPacks, Span<int> packIndex, Span<int> rankInPack, Span<ulong> keys, Span<int> counts)
    {
        if (weight.Length == numPacks)
        {
            OnePerPack(packIndex, rankInPack);
            return;
        }

        var row = new PackingRow(weight, numPacks, packIndex, rankInPack, keys, counts);
        for (int i = row.Placed; i < weight.Length; i++)
        {
            row.Place(i);
        }
    }

    /// <summary>
    /// Packs two independent rows of the same size, one item of each in turn: each row's greedy is a serial
    /// chain (an item's pack depends on the previous item's load), and interleaving gives the processor two
    /// chains to overlap. The results are exactly those of two <see cref="PackRow"/> calls.
    /// </summary>
    internal static void PackRowPair(
        ReadOnlySpan<float> weightA, Span<int> packIndexA, Span<int> rankInPackA, Span<ulong> keysA, Span<int> countsA,
        ReadOnlySpan<float> weightB, Span<int> packIndexB, Span<int> rankInPackB, Span<ulong> keysB, Span<int> countsB, int numPacks)
    {
        Debug.Assert(weightA.Length == weightB.Length, "paired rows have the same shape");
        if (weightA.Length == numPacks)
        {
            OnePerPack(packIndexA, rankInPackA);
            OnePerPack(packIndexB, rankInPackB);
            return;
        }

        var a = new PackingRow(weightA, numPacks, packIndexA, rankInPackA, keysA, countsA);
        var b = new PackingRow(weightB, numPacks, packIndexB, rankInPackB, keysB, countsB);
        for (int i = Math.Min(a.Placed, b.Placed); i < weightA.Length; i++)
        {
            if (i >= a.Placed)
            {
                a.Place(i);
            }

            if (i >= b.Placed)
            {
                b.Place(i);
            }
        }
    }

    // One item per pack: item i goes to pack i, unsorted, exactly as the reference short-circuits.
    private static void OnePerPack(Span<int> packIndex, Span<int> rankInPack)
    {
        for (int i = 0; i < packIndex.Length; i++)
        {
            packIndex[i] = i;
        }

        rankInPack.Clear();
    }

    /// <summary>One row's greedy, advanced an item at a time so that independent rows can be interleaved.</summary>
    /// <remarks>
    /// Each pack is one key, <c>(load bits, pack index)</c>: for non-negative loads its unsigned order is exactly
    /// the reference's choice, lightest first and the lowest index on equal load; a full pack's key is
    /// <see cref="ulong.MaxValue"/>, so it is never chosen again. A <see cref="TournamentTree"/> finds the minimum
    /// in O(log m) per item without mispredicted branches, where the reference scans all m packs.
    /// </remarks>
    private ref struct PackingRow
    {
        private readonly ReadOnlySpan<float> _weight;
        private readonly ReadOnlySpan<ulong> _order;
        private readonly Span<ulong> _tree;
        private readonly Span<int> _packIndex;
        private readonly Span<int> _rankInPack;
        private readonly Span<int> _counts;
        private readonly int _leaves;
        private readonly int _perPack;
        private ulong _lightest;

        public PackingRow(ReadOnlySpan<float> weight, int numPacks, Span<int> packIndex, Span<int> rankInPack, Span<ulong> keys, Span<int> counts)
        {
            int n = weight.Length;
            Span<ulong> order = keys.Slice(0, n);
            ReferenceSort.MakeKeys(weight, order, complementValues: false);
            ReferenceSort.SortDescending(order);
            _counts = counts.Slice(0, numPacks);
            _counts.Clear();

            // While every item so far is heavier than zero, the next item's lightest pack with room is the first
            // empty one: item j goes to pack j, rank 0. Those placements need no tree; it is built once after them.
            int placed = 0;
            while (placed < numPacks && (placed == 0 || weight[ReferenceSort.IndexOf(order[placed - 1])] > 0f))
            {
                int item = ReferenceSort.IndexOf(order[placed]);
                packIndex[item] = placed;
                rankInPack[item] = 0;
                _counts[placed] = 1;
                placed++;
            }

            _leaves = TournamentTree.Leaves(numPacks);
            _tree = keys.Slice(n, 2 * _leaves);
            for (int p = 0; p < _leaves; p++)
            {
                _tree[_leaves + p] =
                    p >= numPacks ? ulong.MaxValue :
                    p < placed ? ((ulong)BitConverter.SingleToUInt32Bits(weight[ReferenceSort.IndexOf(order[p])]) << 32) | (uint)p :
                    (uint)p; // still empty: load zero
            }

            TournamentTree.Build(_tree, _leaves);
            _lightest = _tree[1];
            _weight = weight;
            _order = order;
            _packIndex = packIndex;
            _rankInPack = rankInPack;
            _perPack = n / numPacks;
            Placed = placed;
        }

        /// <summary>How many of the heaviest items the constructor placed already.</summary>
        public int Placed { get; }

        /// <summary>Places the <paramref name="i"/>-th heaviest item on the lightest pack with room.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Place(int i)
        {
            int item = ReferenceSort.IndexOf(_order[i]);
            int pack = (int)(uint)_lightest;
            _packIndex[item] = pack;
            int rank = _counts[pack]++;
            _rankInPack[item] = rank;

            // A sum of non-negative loads starting from +0 is never -0, so the key needs no sign fold.
            float load = BitConverter.UInt32BitsToSingle((uint)(_lightest >> 32)) + _weight[item];
            ulong key = ((ulong)BitConverter.SingleToUInt32Bits(load) << 32) | (uint)pack;
            _lightest = TournamentTree.Update(_tree, _leaves, pack, rank + 1 == _perPack ? ulong.MaxValue : key);
        }
    }
}
