using System.Buffers;

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

        ulong[] keys = ArrayPool<ulong>.Shared.Rent(ScratchLength(weight.Length, numPacks));
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
        ulong[] keys = ArrayPool<ulong>.Shared.Rent(ScratchLength(n, numPacks));
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

    /// <summary>Scratch <see cref="PackRow"/> needs: the sort keys plus a tournament tree over the packs.</summary>
    internal static int ScratchLength(int items, int packs) => items + TournamentTree.Length(packs);

    /// <summary>The unchecked core. <paramref name="keys"/> holds at least <see cref="ScratchLength"/> entries, <paramref name="counts"/> at least m.</summary>
    /// <remarks>
    /// Each pack is one key, <c>(load bits, pack index)</c>: for non-negative loads its unsigned order is exactly
    /// the reference's choice, lightest first and the lowest index on equal load; a full pack's key is
    /// <see cref="ulong.MaxValue"/>, so it is never chosen again. A <see cref="TournamentTree"/> finds the minimum
    /// in O(log m) per item without mispredicted branches, where the reference scans all m packs.
    /// </remarks>
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

        int leaves = TournamentTree.Leaves(numPacks);
        Span<ulong> tree = keys.Slice(n, 2 * leaves);
        for (int p = 0; p < leaves; p++)
        {
            tree[leaves + p] = p < numPacks ? (uint)p : ulong.MaxValue; // every load starts at zero
        }

        TournamentTree.Build(tree, leaves);
        foreach (ulong key in order)
        {
            int item = ReferenceSort.IndexOf(key);
            ulong lightest = tree[1];
            int pack = (int)(uint)lightest;
            packIndex[item] = pack;
            int rank = counts[pack]++;
            rankInPack[item] = rank;
            float load = BitConverter.UInt32BitsToSingle((uint)(lightest >> 32)) + weight[item];
            TournamentTree.Update(tree, leaves, pack, rank + 1 == perPack ? ulong.MaxValue : ReferenceSort.MakeKey(load, pack));
        }
    }
}
