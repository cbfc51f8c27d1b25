namespace Eplb;

/// <summary>
/// Step 2 of <c>rebalance_experts_hierarchical</c>, "construct redundant experts within nodes": each node's experts,
/// in node order, get the node's slots by <c>replicate_experts</c>.
/// </summary>
internal static class ReplicationWithinNodes
{
    /// <summary>
    /// Replicates node <paramref name="node"/>'s experts into its slots (<c>phy2mlog</c> as node-local ids and
    /// <c>phyrank</c>), writing their counts into the node's part of <paramref name="nodeOrderCounts"/>
    /// (<c>mlogcnt</c>). When <paramref name="packKeys"/> is not empty, it receives step 3's sort keys: each slot's
    /// load per replica (<c>tokens_per_phy</c>), which replication has just computed with the reference's division.
    /// </summary>
    public static void Replicate(ReadOnlySpan<float> weight, in RebalanceShape s, int node, Span<int> slotExpert, Span<int> slotRank,
        Span<int> nodeOrderCounts, ReferenceWorkspace ws, Span<SortKey> packKeys)
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
        if (!packKeys.IsEmpty)
        {
            ReadOnlySpan<ulong> shares = ExpertReplication.Shares(ws.ReplicationTree, expertsPerNode);
            for (int t = 0; t < slotExpert.Length; t++)
            {
                packKeys[t] = ShareKey.ToSortKey(shares[slotExpert[t]], t);
            }
        }
    }
}
