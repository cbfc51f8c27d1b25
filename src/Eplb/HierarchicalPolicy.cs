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
        int slotsPerNode = s.SlotsPerNode;
        int slotsPerGpu = s.SlotsPerGpu;
        bool keepsOrder = s.KeepsExpertOrder;

        // With one group per node the relabelling is the identity: skip it, and let replication write the
        // counts straight into the output.
        Span<int> nodeOrderCounts = keepsOrder ? logicalReplicaCount : ws.NodeOrderCounts.AsSpan(0, s.Experts);
        if (!keepsOrder)
        {
            PackGroupsOntoNodes(weight, s, ws);
        }

        if (keepsOrder && slotsPerGpu == 1)
        {
            // One slot per GPU and no relabelling: placement is the identity, so each node's replication
            // writes straight into the layer's slots.
            for (int node = 0; node < s.Nodes; node++)
            {
                ReplicateWithinNode(weight, s, node, physicalToLogical.Slice(node * slotsPerNode, slotsPerNode),
                    replicaRank.Slice(node * slotsPerNode, slotsPerNode), nodeOrderCounts, ws, packKeys: default);
                if (node > 0)
                {
                    OffsetExperts(physicalToLogical.Slice(node * slotsPerNode, slotsPerNode), node * s.ExpertsPerNode);
                }
            }

            return;
        }

        // Nodes go two at a time (two lanes of workspace): their GPU packings are independent serial chains,
        // packed interleaved.
        for (int node = 0; node < s.Nodes; node += 2)
        {
            int lanes = Math.Min(2, s.Nodes - node);
            for (int lane = 0; lane < lanes; lane++)
            {
                ReplicateWithinNode(weight, s, node + lane, Lane(ws.SlotExpert, lane, slotsPerNode), Lane(ws.SlotReplicaRank, lane, slotsPerNode),
                    nodeOrderCounts, ws, slotsPerGpu > 1 ? (lane == 0 ? ws.Keys : ws.KeysB) : default);
            }

            if (slotsPerGpu > 1 && lanes == 2)
            {
                BalancedPacking.PackKeysPair(
                    Lane(ws.SlotPosition, 0, slotsPerNode), ws.Keys, ws.PackCounts,
                    Lane(ws.SlotPosition, 1, slotsPerNode), ws.KeysB, ws.PackCountsB,
                    slotsPerNode, s.GpusPerNode);
            }
            else if (slotsPerGpu > 1)
            {
                BalancedPacking.PackKeys(slotsPerNode, s.GpusPerNode, Lane(ws.SlotPosition, 0, slotsPerNode), ws.Keys, ws.PackCounts);
            }

            for (int lane = 0; lane < lanes; lane++)
            {
                PlaceNode(s, node + lane, lane, physicalToLogical, replicaRank, ws);
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

    private static Span<T> Lane<T>(T[] buffer, int lane, int length) => buffer.AsSpan(lane * length, length);

    // Step 4 for one node: replicate its experts into its slots (node-local expert ids). Each replica's load is
    // its expert's final share, w / count, which replication leaves in its keys; when packing follows, it goes
    // straight into packing's sort keys, (share bits, slot), with no float copy in between.
    private static void ReplicateWithinNode(ReadOnlySpan<float> weight, in RebalanceShape s, int node, Span<int> slotExpert, Span<int> slotRank,
        Span<int> nodeOrderCounts, RebalanceWorkspace ws, Span<ulong> packKeys)
    {
        int expertsPerNode = s.ExpertsPerNode, firstExpert = node * expertsPerNode;
        ReadOnlySpan<float> nodeLoads;
        if (s.KeepsExpertOrder)
        {
            nodeLoads = weight.Slice(firstExpert, expertsPerNode);
        }
        else
        {
            Span<float> gathered = ws.NodeLoads.AsSpan(0, expertsPerNode);
            ReadOnlySpan<int> nodeOrderToLogical = ws.NodeOrderToLogical.AsSpan(firstExpert, expertsPerNode);
            for (int i = 0; i < gathered.Length; i++)
            {
                gathered[i] = weight[nodeOrderToLogical[i]];
            }

            nodeLoads = gathered;
        }

        ExpertReplication.ReplicateRow(nodeLoads, s.SlotsPerNode, slotExpert, slotRank,
            nodeOrderCounts.Slice(firstExpert, expertsPerNode), ws.ReplicationTree, ws.UpcomingShares);
        ReadOnlySpan<ulong> shares = ExpertReplication.Shares(ws.ReplicationTree, expertsPerNode);
        if (!packKeys.IsEmpty)
        {
            for (int t = 0; t < slotExpert.Length; t++)
            {
                packKeys[t] = ExpertReplication.ShareKeyOf(shares, slotExpert[t]) | (uint)t;
            }
        }
    }

    private static void OffsetExperts(Span<int> experts, int offset)
    {
        for (int i = 0; i < experts.Length; i++)
        {
            experts[i] += offset;
        }
    }

    // Steps 5-6 for one node: slot t of the node moves to GPU pack * slotsPerGpu + rank (with one slot per GPU,
    // packing is the identity and the reference skips its sort too), relabelled back to logical experts.
    private static void PlaceNode(in RebalanceShape s, int node, int lane, Span<int> physicalToLogical, Span<int> replicaRank, RebalanceWorkspace ws)
    {
        int slotsPerNode = s.SlotsPerNode, slotsPerGpu = s.SlotsPerGpu, firstExpert = node * s.ExpertsPerNode;
        Span<int> nodeSlots = physicalToLogical.Slice(node * slotsPerNode, slotsPerNode);
        Span<int> nodeRanks = replicaRank.Slice(node * slotsPerNode, slotsPerNode);
        ReadOnlySpan<int> slotExpert = Lane(ws.SlotExpert, lane, slotsPerNode);
        ReadOnlySpan<int> slotRank = Lane(ws.SlotReplicaRank, lane, slotsPerNode);
        ReadOnlySpan<int> packedPosition = Lane(ws.SlotPosition, lane, slotsPerNode);
        ReadOnlySpan<int> nodeOrderToLogical = ws.NodeOrderToLogical.AsSpan(0, s.Experts);
        bool keepsOrder = s.KeepsExpertOrder;
        for (int t = 0; t < slotsPerNode; t++)
        {
            int position = slotsPerGpu == 1 ? t : packedPosition[t];
            int local = firstExpert + slotExpert[t];
            nodeSlots[position] = keepsOrder ? local : nodeOrderToLogical[local];
            nodeRanks[position] = slotRank[t];
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

        // Each group's slot among the groups, node after node: gp * (g / n) + gr in the reference.
        Span<int> groupSlot = ws.GroupSlot.AsSpan(0, s.Groups);
        BalancedPacking.PackRow(groupLoads, s.Nodes, groupSlot, ws.Keys, ws.PackCounts);

        Span<int> logicalToNodeOrder = ws.LogicalToNodeOrder.AsSpan(0, s.Experts);
        Span<int> nodeOrderToLogical = ws.NodeOrderToLogical.AsSpan(0, s.Experts);
        for (int j = 0; j < groupLoads.Length; j++)
        {
            int first = groupSlot[j] * groupSize;
            for (int i = 0; i < groupSize; i++)
            {
                int e = (j * groupSize) + i;
                logicalToNodeOrder[e] = first + i;
                nodeOrderToLogical[first + i] = e;
            }
        }
    }
}
