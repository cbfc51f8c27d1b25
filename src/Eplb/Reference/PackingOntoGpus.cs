namespace Eplb;

/// <summary>
/// Step 3 of <c>rebalance_experts_hierarchical</c>, "pack physical_experts to GPUs": each node's replicas go onto
/// the node's GPUs by <c>balanced_packing</c> of their loads, and the layer's slots are assembled from them
/// (<c>pphy2mlog</c>, then <c>pphy2log</c> through <c>mlog2log</c>).
/// </summary>
internal static class PackingOntoGpus
{
    /// <summary>
    /// Packs one or two nodes' replicas (their keys made by step 2) onto their GPUs, two at a time when there are
    /// two: each node's greedy is a serial chain, and interleaving gives the processor two to overlap.
    /// </summary>
    public static void Pack<TSort>(in RebalanceShape s, NodeScratch first, NodeScratch? second)
        where TSort : struct, IDescendingSort
    {
        int slotsPerNode = s.SlotsPerNode;
        if (second is null)
        {
            BalancedPacking.PackKeys<TSort>(slotsPerNode, s.GpusPerNode, first.SlotPosition.AsSpan(0, slotsPerNode), first.Packing);
        }
        else
        {
            BalancedPacking.PackKeysPair<TSort>(
                first.SlotPosition.AsSpan(0, slotsPerNode), first.Packing,
                second.SlotPosition.AsSpan(0, slotsPerNode), second.Packing,
                slotsPerNode, s.GpusPerNode);
        }
    }

    /// <summary>
    /// Writes node <paramref name="node"/>'s replicas into the layer's rows: slot <c>t</c> of the node moves to its
    /// packed position (left where it is with one slot per GPU, where the reference skips the sort too), relabelled
    /// from node order back to logical experts.
    /// </summary>
    public static void Place(in RebalanceShape s, int node, NodeScratch scratch, ReadOnlySpan<int> nodeOrderToLogical, in LayerPlan plan)
    {
        int slotsPerNode = s.SlotsPerNode, firstExpert = node * s.ExpertsPerNode;
        Span<int> nodeSlots = plan.PhysicalToLogical.Slice(node * slotsPerNode, slotsPerNode);
        Span<int> nodeRanks = plan.ReplicaRank.Slice(node * slotsPerNode, slotsPerNode);
        ReadOnlySpan<int> slotExpert = scratch.SlotExpert.AsSpan(0, slotsPerNode);
        ReadOnlySpan<int> slotRank = scratch.SlotReplicaRank.AsSpan(0, slotsPerNode);
        ReadOnlySpan<int> packedPosition = scratch.SlotPosition.AsSpan(0, slotsPerNode);
        bool packed = s.SlotsPerGpu > 1, keepsOrder = s.KeepsExpertOrder;
        for (int t = 0; t < slotsPerNode; t++)
        {
            int position = packed ? packedPosition[t] : t;
            int local = firstExpert + slotExpert[t];
            nodeSlots[position] = keepsOrder ? local : nodeOrderToLogical[local];
            nodeRanks[position] = slotRank[t];
        }
    }
}
