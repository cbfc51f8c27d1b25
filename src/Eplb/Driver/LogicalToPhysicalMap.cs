namespace Eplb;

/// <summary>
/// <c>log2phy</c>: for each layer and logical expert, the physical slots of its replicas in replica-rank order,
/// padded with <c>-1</c> to the largest replica count of any layer — the scatter <c>rebalance_experts</c> ends with.
/// </summary>
internal static class LogicalToPhysicalMap
{
    /// <summary>
    /// Fills <paramref name="logicalToPhysical"/>, <c>[layers, experts, maxReplicaCount]</c>, from each slot's expert
    /// and replica rank. Each layer's block is filled with <c>-1</c> just before its scatter, while it is still in cache.
    /// </summary>
    public static void Fill(ReadOnlySpan<int> physicalToLogical, ReadOnlySpan<int> replicaRank, in RebalanceShape shape, int maxReplicaCount, Span<int> logicalToPhysical) =>
        Fill(physicalToLogical, replicaRank, shape.Layers, shape.Experts, shape.Replicas, maxReplicaCount, logicalToPhysical);

    /// <inheritdoc cref="Fill(ReadOnlySpan{int}, ReadOnlySpan{int}, in RebalanceShape, int, Span{int})"/>
    /// <remarks>Slots holding -1 (on unavailable GPUs) appear nowhere.</remarks>
    public static void Fill(ReadOnlySpan<int> physicalToLogical, ReadOnlySpan<int> replicaRank, int layers, int e, int p, int maxReplicaCount, Span<int> logicalToPhysical)
    {
        for (int layer = 0; layer < layers; layer++)
        {
            Span<int> layerMap = logicalToPhysical.Slice(layer * e * maxReplicaCount, e * maxReplicaCount);
            layerMap.Fill(-1);
            ReadOnlySpan<int> slots = physicalToLogical.Slice(layer * p, p);
            ReadOnlySpan<int> ranks = replicaRank.Slice(layer * p, p);
            for (int slot = 0; slot < slots.Length; slot++)
            {
                if (slots[slot] >= 0)
                {
                    layerMap[(slots[slot] * maxReplicaCount) + ranks[slot]] = slot;
                }
            }
        }
    }
}
