using System.Numerics.Tensors;

namespace Eplb;

/// <summary>
/// One layer of <c>rebalance_experts_hierarchical</c>: pack groups onto nodes, replicate experts within each
/// node, pack each node's replicas onto its GPUs. The global policy is this with one group and one node.
/// </summary>
internal static class HierarchicalPolicy
{
    /// <summary>
    /// Places one layer. <paramref name="physicalToLogical"/> and <paramref name="replicaRank"/> are the layer's
    /// <c>P</c> slots; <paramref name="logicalReplicaCount"/> its <c>E</c> experts.
    /// </summary>
    public static void RebalanceLayer(ReadOnlySpan<float> weight, in RebalanceShape s, Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount, RebalanceWorkspace ws)
    {
        int expertsPerNode = s.ExpertsPerNode;
        int slotsPerNode = s.SlotsPerNode;
        int slotsPerGpu = s.SlotsPerGpu;
        bool keepsOrder = s.KeepsExpertOrder;
        Span<int> nodeOrderToLogical = ws.NodeOrderToLogical.AsSpan(0, s.Experts);

        // With one group per node the relabelling is the identity: skip it, and let replication write the
        // counts straight into the output.
        Span<int> nodeOrderCounts = keepsOrder ? logicalReplicaCount : ws.NodeOrderCounts.AsSpan(0, s.Experts);
        if (!keepsOrder)
        {
            PackGroupsOntoNodes(weight, s, ws);
        }

        Span<int> slotExpert = ws.SlotExpert.AsSpan(0, slotsPerNode);
        Span<int> slotRank = ws.SlotReplicaRank.AsSpan(0, slotsPerNode);
        for (int node = 0; node < s.Nodes; node++)
        {
            int firstExpert = node * expertsPerNode;
            ReadOnlySpan<float> nodeLoads;
            if (keepsOrder)
            {
                nodeLoads = weight.Slice(firstExpert, expertsPerNode);
            }
            else
            {
                Span<float> gathered = ws.NodeLoads.AsSpan(0, expertsPerNode);
                for (int i = 0; i < gathered.Length; i++)
                {
                    gathered[i] = weight[nodeOrderToLogical[firstExpert + i]];
                }

                nodeLoads = gathered;
            }

            Span<int> counts = nodeOrderCounts.Slice(firstExpert, expertsPerNode);
            ExpertReplication.ReplicateRow(nodeLoads, slotsPerNode, slotExpert, slotRank, counts, ws.ReplicationTree, ws.NextShare);

            Span<int> nodeSlots = physicalToLogical.Slice(node * slotsPerNode, slotsPerNode);
            Span<int> nodeRanks = replicaRank.Slice(node * slotsPerNode, slotsPerNode);
            if (slotsPerGpu == 1)
            {
                // One slot per GPU: packing is the identity (the reference skips its sort too).
                for (int t = 0; t < slotsPerNode; t++)
                {
                    int local = firstExpert + slotExpert[t];
                    nodeSlots[t] = keepsOrder ? local : nodeOrderToLogical[local];
                    nodeRanks[t] = slotRank[t];
                }

                continue;
            }

            Span<float> replicaLoads = ws.ReplicaLoads.AsSpan(0, slotsPerNode);
            ReadOnlySpan<ulong> shares = ExpertReplication.Shares(ws.ReplicationTree, expertsPerNode);
            for (int t = 0; t < replicaLoads.Length; t++)
            {
                replicaLoads[t] = ExpertReplication.ShareOf(shares, slotExpert[t]);
            }

            Span<int> pack = ws.SlotPack.AsSpan(0, slotsPerNode);
            Span<int> rankInPack = ws.SlotRankInPack.AsSpan(0, slotsPerNode);
            BalancedPacking.PackRow(replicaLoads, s.GpusPerNode, pack, rankInPack, ws.Keys, ws.PackCounts);
            for (int t = 0; t < slotsPerNode; t++)
            {
                int position = (pack[t] * slotsPerGpu) + rankInPack[t];
                int local = firstExpert + slotExpert[t];
                nodeSlots[position] = keepsOrder ? local : nodeOrderToLogical[local];
                nodeRanks[position] = slotRank[t];
            }
        }

        if (!keepsOrder)
        {
            ReadOnlySpan<int> logicalToNodeOrder = ws.LogicalToNodeOrder.AsSpan(0, s.Experts);
            for (int e = 0; e < logicalReplicaCount.Length; e++)
            {
                logicalReplicaCount[e] = nodeOrderCounts[logicalToNodeOrder[e]];
            }
        }
    }

    // Steps 1-3 of the reference: group loads, balanced packing of groups onto nodes, and the relabelling that
    // makes each node's experts contiguous (log2mlog and its inverse mlog2log).
    private static void PackGroupsOntoNodes(ReadOnlySpan<float> weight, in RebalanceShape s, RebalanceWorkspace ws)
    {
        int groupSize = s.GroupSize;
        Span<float> groupLoads = ws.GroupLoads.AsSpan(0, s.Groups);
        for (int j = 0; j < groupLoads.Length; j++)
        {
            groupLoads[j] = TensorPrimitives.Sum(weight.Slice(j * groupSize, groupSize));
        }

        Span<int> groupPack = ws.GroupPack.AsSpan(0, s.Groups);
        Span<int> groupRank = ws.GroupRank.AsSpan(0, s.Groups);
        BalancedPacking.PackRow(groupLoads, s.Nodes, groupPack, groupRank, ws.Keys, ws.PackCounts);

        Span<int> logicalToNodeOrder = ws.LogicalToNodeOrder.AsSpan(0, s.Experts);
        Span<int> nodeOrderToLogical = ws.NodeOrderToLogical.AsSpan(0, s.Experts);
        for (int j = 0; j < groupLoads.Length; j++)
        {
            int first = ((groupPack[j] * s.GroupsPerNode) + groupRank[j]) * groupSize;
            for (int i = 0; i < groupSize; i++)
            {
                int e = (j * groupSize) + i;
                logicalToNodeOrder[e] = first + i;
                nodeOrderToLogical[first + i] = e;
            }
        }
    }
}
