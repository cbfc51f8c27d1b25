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
    public static void Fill(ReadOnlySpan<int> physicalToLogical, ReadOnlySpan<int> replicaRank, in RebalanceShape shape, int maxReplicaCount, Span<int> logicalToPhysical)
    {
        int e = shape.Experts, p = shape.Replicas;
        for (int layer = 0; layer < shape.Layers; layer++)
        {
            Span<int> layerMap = logicalToPhysical.Slice(layer * e * maxReplicaCount, e * maxReplicaCount);
            layerMap.Fill(-1);
            ReadOnlySpan<int> slots = physicalToLogical.Slice(layer * p, p);
            ReadOnlySpan<int> ranks = replicaRank.Slice(layer * p, p);
            for (int slot = 0; slot < slots.Length; slot++)
            {
                layerMap[(slots[slot] * maxReplicaCount) + ranks[slot]] = slot;
            }
        }
    }
}
