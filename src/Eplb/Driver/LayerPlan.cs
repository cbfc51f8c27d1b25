namespace Eplb;

/// <summary>One layer's rows of the plan, which a placer fills.</summary>
/// <param name="physicalToLogical">The layer's <c>phy2log</c> row: the logical expert of each of the <c>P</c> slots.</param>
/// <param name="replicaRank">The replica rank of each slot's expert: 0 for its first replica, 1 for its second, …</param>
/// <param name="logicalReplicaCount">The layer's <c>logcnt</c> row: each of the <c>E</c> experts' replica count.</param>
internal readonly ref struct LayerPlan(Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount)
{
    /// <summary>The logical expert of each slot (<c>phy2log</c>).</summary>
    public Span<int> PhysicalToLogical { get; } = physicalToLogical;

    /// <summary>The replica rank of each slot, which orders <c>log2phy</c>.</summary>
    public Span<int> ReplicaRank { get; } = replicaRank;

    /// <summary>The replica count of each logical expert (<c>logcnt</c>).</summary>
    public Span<int> LogicalReplicaCount { get; } = logicalReplicaCount;

    /// <summary>
    /// Counts each expert's slots in <paramref name="row"/> into <paramref name="counts"/> and ranks its replicas in
    /// slot order — its first slot rank 0, its next rank 1, … — the order <c>log2phy</c> lists them in.
    /// </summary>
    public static void RankInSlotOrder(ReadOnlySpan<int> row, Span<int> ranks, Span<int> counts)
    {
        counts.Clear();
        for (int slot = 0; slot < row.Length; slot++)
        {
            ranks[slot] = counts[row[slot]]++;
        }
    }
}
