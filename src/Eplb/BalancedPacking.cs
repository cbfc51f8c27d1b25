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
    /// <param name="tieOrder">Whose sort orders items of equal weight (the PyTorch build to match); libstdc++'s by default.</param>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds more than <see cref="RebalanceLimits.MaxPhysicalExperts"/> items.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numPacks"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="numPacks"/> does not divide the item count.</exception>
    /// <exception cref="ArgumentException"><paramref name="packIndex"/> or <paramref name="rankInPack"/> is shorter than <paramref name="weight"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="packIndex"/> and <paramref name="rankInPack"/> overlap each other or <paramref name="weight"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tieOrder"/> is not a defined <see cref="TieOrder"/>.</exception>
    public static void Pack(ReadOnlySpan<float> weight, int numPacks, Span<int> packIndex, Span<int> rankInPack, TieOrder tieOrder = TieOrder.LibStdCxx)
    {
        ThrowHelper.ThrowIfEmpty(weight.Length, nameof(weight));
        ThrowHelper.ThrowIfTooManyItems(weight.Length, nameof(weight));
        ThrowHelper.ThrowIfNotPositive(numPacks, nameof(numPacks));
        ThrowHelper.ThrowIfNotMultiple(weight.Length, numPacks, nameof(numPacks), "the item count");
        ThrowHelper.ThrowIfDestinationTooShort(packIndex.Length, weight.Length, nameof(packIndex));
        ThrowHelper.ThrowIfDestinationTooShort(rankInPack.Length, weight.Length, nameof(rankInPack));
        ThrowHelper.ThrowIfOverlapping(packIndex, nameof(packIndex), weight, nameof(weight));
        ThrowHelper.ThrowIfOverlapping(rankInPack, nameof(rankInPack), weight, nameof(weight));
        ThrowHelper.ThrowIfOverlapping(rankInPack, nameof(rankInPack), packIndex, nameof(packIndex));
        ThrowHelper.ThrowIfUndefined(tieOrder, nameof(tieOrder));
        ThrowHelper.ThrowIfInvalidLoads(weight, weight.Length, nameof(weight));

        PackRows(weight, weight.Length, numPacks, packIndex, rankInPack, tieOrder);
    }

    /// <summary>
    /// Packs every row of <c>[X, n]</c> items independently: <c>balanced_packing(weight, num_packs)</c>.
    /// </summary>
    /// <param name="weight">The weights, <c>[X, n]</c>: finite and non-negative.</param>
    /// <param name="numPacks">The number of packs <c>m</c>; must divide <c>n</c>.</param>
    /// <param name="tieOrder">Whose sort orders items of equal weight (the PyTorch build to match); libstdc++'s by default.</param>
    /// <returns><c>(pack_index, rank_in_pack)</c>, both <c>[X, n]</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has no rows or no columns.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has more than <see cref="RebalanceLimits.MaxPhysicalExperts"/> columns.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numPacks"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="numPacks"/> does not divide <c>n</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tieOrder"/> is not a defined <see cref="TieOrder"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative value.</exception>
    public static (int[,] PackIndex, int[,] RankInPack) Pack(float[,] weight, int numPacks, TieOrder tieOrder = TieOrder.LibStdCxx)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int rows = weight.GetLength(0), n = weight.GetLength(1);
        ThrowHelper.ThrowIfEmpty(rows, nameof(weight));
        ThrowHelper.ThrowIfEmpty(n, nameof(weight));
        ThrowHelper.ThrowIfTooManyItems(n, nameof(weight));
        ThrowHelper.ThrowIfNotPositive(numPacks, nameof(numPacks));
        ThrowHelper.ThrowIfNotMultiple(n, numPacks, nameof(numPacks), "the item count");
        ThrowHelper.ThrowIfUndefined(tieOrder, nameof(tieOrder));
        ReadOnlySpan<float> all = MatrixMarshal.AsSpan(weight);
        ThrowHelper.ThrowIfInvalidLoads(all, n, nameof(weight));

        var packIndex = new int[rows, n];
        var rankInPack = new int[rows, n];
        PackRows(all, n, numPacks, MatrixMarshal.AsSpan(packIndex), MatrixMarshal.AsSpan(rankInPack), tieOrder);
        return (packIndex, rankInPack);
    }

    private static void PackRows(ReadOnlySpan<float> weight, int n, int numPacks, Span<int> packIndex, Span<int> rankInPack, TieOrder tieOrder)
    {
        switch (tieOrder)
        {
            case TieOrder.X86SimdSortAvx512:
                PackRows<X86SimdSortAvx512>(weight, n, numPacks, packIndex, rankInPack);
                break;
            case TieOrder.X86SimdSortAvx2:
                PackRows<X86SimdSortAvx2>(weight, n, numPacks, packIndex, rankInPack);
                break;
            default:
                PackRows<LibStdCxxSort>(weight, n, numPacks, packIndex, rankInPack);
                break;
        }
    }

    // Validated rows of n items each, with scratch of its own. The core gives each item its slot, pack * perPack +
    // rank; the public outputs split it.
    private static void PackRows<TSort>(ReadOnlySpan<float> weight, int n, int numPacks, Span<int> packIndex, Span<int> rankInPack)
        where TSort : struct, IDescendingSort
    {
        SortKey[] keys = Scratch.Rent<SortKey>(n);
        ulong[] tree = Scratch.Rent<ulong>(TournamentTree.Length(numPacks));
        int[] counts = Scratch.Rent<int>(numPacks);
        try
        {
            var scratch = new PackingScratch(keys, tree, counts);
            int perPack = n / numPacks;
            for (int row = 0; row < weight.Length / n; row++)
            {
                Span<int> pack = packIndex.Slice(row * n, n), rank = rankInPack.Slice(row * n, n);
                PackRow<TSort>(weight.Slice(row * n, n), numPacks, pack, scratch);
                for (int i = 0; i < n; i++)
                {
                    (pack[i], rank[i]) = Math.DivRem(pack[i], perPack);
                }
            }
        }
        finally
        {
            Scratch.Return(keys);
            Scratch.Return(tree);
            Scratch.Return(counts);
        }
    }

    /// <summary>
    /// The unchecked core: gives each item its slot, <c>pack * perPack + rank_in_pack</c> (where the reference would
    /// put it, counting slots pack after pack).
    /// </summary>
    internal static void PackRow<TSort>(ReadOnlySpan<float> weight, int numPacks, Span<int> itemSlot, in PackingScratch scratch)
        where TSort : struct, IDescendingSort
    {
        if (weight.Length == numPacks)
        {
            OnePerPack(itemSlot.Slice(0, weight.Length));
            return;
        }

        SortKey.CreateRow(weight, scratch.Keys.Slice(0, weight.Length));
        PackKeys<TSort>(weight.Length, numPacks, itemSlot, scratch);
    }

    /// <summary>
    /// <see cref="PackRow"/> for items already made into keys: <paramref name="scratch"/>'s keys start with the
    /// <paramref name="items"/> sort keys of the items, in any order. Weights are read back from the keys, so callers
    /// that have the keys need no weights.
    /// </summary>
    internal static void PackKeys<TSort>(int items, int numPacks, Span<int> itemSlot, in PackingScratch scratch)
        where TSort : struct, IDescendingSort
    {
        if (items == numPacks)
        {
            OnePerPack(itemSlot.Slice(0, items));
            return;
        }

        Span<SortKey> order = scratch.Keys.Slice(0, items);
        TSort.SortDescending(order);
        int placed = PlaceFirstRound(order, numPacks, itemSlot);
        if (placed == numPacks && items == 2 * numPacks)
        {
            PlaceSecondRound(order, numPacks, itemSlot);
            return;
        }

        if (PackVector.IsSupported(numPacks, items / numPacks))
        {
            PackVector.PlaceRest(order, placed, numPacks, itemSlot);
            return;
        }

        var row = new PackingRow(order, placed, numPacks, itemSlot, scratch);
        for (int i = placed; i < items; i++)
        {
            row.Place(i);
        }
    }

    /// <summary>
    /// Packs two independent rows of keys of the same shape, one item of each in turn: each row's greedy is a
    /// serial chain (an item's pack depends on the previous item's load), and interleaving gives the processor
    /// two chains to overlap. The results are exactly those of two <see cref="PackKeys"/> calls.
    /// </summary>
    internal static void PackKeysPair<TSort>(Span<int> itemSlotA, in PackingScratch scratchA, Span<int> itemSlotB, in PackingScratch scratchB, int items, int numPacks)
        where TSort : struct, IDescendingSort
    {
        if (items <= 2 * numPacks)
        {
            // No long chain to overlap: one item per pack needs no greedy, two per pack almost none.
            PackKeys<TSort>(items, numPacks, itemSlotA, scratchA);
            PackKeys<TSort>(items, numPacks, itemSlotB, scratchB);
            return;
        }

        Span<SortKey> orderA = scratchA.Keys.Slice(0, items), orderB = scratchB.Keys.Slice(0, items);
        TSort.SortDescending(orderA);
        TSort.SortDescending(orderB);
        int placedA = PlaceFirstRound(orderA, numPacks, itemSlotA);
        int placedB = PlaceFirstRound(orderB, numPacks, itemSlotB);
        if (PackVector.IsSupported(numPacks, items / numPacks))
        {
            PackVector.PlaceRestOfPair(orderA, placedA, itemSlotA, orderB, placedB, itemSlotB, numPacks);
            return;
        }

        var a = new PackingRow(orderA, placedA, numPacks, itemSlotA, scratchA);
        var b = new PackingRow(orderB, placedB, numPacks, itemSlotB, scratchB);
        for (int i = Math.Min(placedA, placedB); i < items; i++)
        {
            if (i >= placedA)
            {
                a.Place(i);
            }

            if (i >= placedB)
            {
                b.Place(i);
            }
        }
    }

    // While every item so far is heavier than zero, the next item's lightest pack with room is the first empty
    // one: item j goes to pack j, rank 0. Returns how many items were placed so, at most one per pack.
    private static int PlaceFirstRound(ReadOnlySpan<SortKey> order, int numPacks, Span<int> itemSlot)
    {
        int perPack = order.Length / numPacks;
        int placed = 0;
        while (placed < numPacks && (placed == 0 || order[placed - 1].LoadHalf != 0))
        {
            itemSlot[order[placed].Index] = placed * perPack;
            placed++;
        }

        return placed;
    }

    /// <summary>
    /// The second and last item of every pack, once each pack holds one: pack p's load is then the p-th
    /// heaviest item, so loads never rise with the pack index, and the lightest pack with room is always in the
    /// last run of equal loads still open, its lowest index first. Walking those runs from the end reproduces
    /// the greedy exactly in O(m), with no tree.
    /// </summary>
    private static void PlaceSecondRound(ReadOnlySpan<SortKey> order, int numPacks, Span<int> itemSlot)
    {
        int next = numPacks;
        for (int runEnd = numPacks; runEnd > 0;)
        {
            ulong load = order[runEnd - 1].LoadHalf;
            int runStart = runEnd - 1;
            while (runStart > 0 && order[runStart - 1].LoadHalf == load)
            {
                runStart--;
            }

            for (int pack = runStart; pack < runEnd; pack++)
            {
                itemSlot[order[next++].Index] = (2 * pack) + 1;
            }

            runEnd = runStart;
        }
    }

    // One item per pack: item i goes to pack i, unsorted, exactly as the reference short-circuits.
    private static void OnePerPack(Span<int> itemSlot)
    {
        for (int i = 0; i < itemSlot.Length; i++)
        {
            itemSlot[i] = i;
        }
    }

    /// <summary>One row's greedy, advanced an item at a time so that independent rows can be interleaved.</summary>
    /// <remarks>
    /// Each pack is one <see cref="PackKey"/>; a <see cref="TournamentTree"/> finds the minimum in O(log m) per item
    /// without mispredicted branches, where the reference scans all m packs. It serves what <see cref="PackVector"/>
    /// does not: more than 64 packs, more than 255 items per pack, or no AVX-512.
    /// </remarks>
    private ref struct PackingRow
    {
        private readonly ReadOnlySpan<SortKey> _order;
        private readonly Span<ulong> _tree;
        private readonly Span<int> _itemSlot;
        private readonly Span<int> _counts;
        private readonly int _leaves;
        private readonly int _perPack;
        private ulong _lightest;

        /// <summary>
        /// Continues a row after <see cref="PlaceFirstRound"/>: <paramref name="order"/> is the sorted row, and its
        /// first <paramref name="placed"/> items sit alone in packs 0, 1, ...
        /// </summary>
        public PackingRow(ReadOnlySpan<SortKey> order, int placed, int numPacks, Span<int> itemSlot, in PackingScratch scratch)
        {
            _counts = scratch.Counts.Slice(0, numPacks);
            _counts.Slice(0, placed).Fill(1);
            _counts.Slice(placed).Clear();

            // A placed pack's load is its one item's load (-0 already folded to +0, as 0 + -0 is +0 in the
            // reference); an empty pack's is zero.
            _leaves = TournamentTree.Leaves(numPacks);
            _tree = scratch.Tree.Slice(0, 2 * _leaves);
            for (int p = 0; p < _leaves; p++)
            {
                _tree[_leaves + p] =
                    p >= numPacks ? PackKey.Full :
                    p < placed ? PackKey.Create(order[p], p) :
                    PackKey.Create(0f, p);
            }

            TournamentTree.Build(_tree, _leaves);
            _lightest = _tree[1];
            _order = order;
            _itemSlot = itemSlot;
            _perPack = order.Length / numPacks;
        }

        /// <summary>Places the <paramref name="i"/>-th heaviest item on the lightest pack with room.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Place(int i)
        {
            SortKey item = _order[i];
            int pack = PackKey.PackOf(_lightest);
            int rank = _counts[pack]++;
            _itemSlot[item.Index] = (pack * _perPack) + rank;

            // A sum of non-negative loads starting from +0 is never -0, so the key needs no sign fold.
            float load = PackKey.LoadOf(_lightest) + item.Load;
            _lightest = TournamentTree.Update(_tree, _leaves, pack, rank + 1 == _perPack ? PackKey.Full : PackKey.Create(load, pack));
        }
    }
}
