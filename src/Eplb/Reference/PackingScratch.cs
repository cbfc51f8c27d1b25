namespace Eplb;

/// <summary>The scratch of one packing row: its sort keys, a tournament tree over its packs, and their item counts.</summary>
internal readonly ref struct PackingScratch(Span<SortKey> keys, Span<ulong> tree, Span<int> counts)
{
    /// <summary>Room for the row's sort keys.</summary>
    public Span<SortKey> Keys { get; } = keys;

    /// <summary>Room for <see cref="TournamentTree.Length"/> of the pack count.</summary>
    public Span<ulong> Tree { get; } = tree;

    /// <summary>Room for a count per pack.</summary>
    public Span<int> Counts { get; } = counts;
}
