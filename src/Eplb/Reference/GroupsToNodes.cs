namespace Eplb;

/// <summary>
/// Step 1 of <c>rebalance_experts_hierarchical</c>, "get group-to-node mapping": sum each expert group's load,
/// pack the groups onto nodes with <c>balanced_packing</c>, and relabel the experts so that each node's are
/// contiguous (<c>log2mlog</c> and its inverse <c>mlog2log</c>).
/// </summary>
internal static class GroupsToNodes
{
    /// <summary>Fills the workspace's <c>log2mlog</c> and <c>mlog2log</c> for one layer's loads.</summary>
    public static void Pack<TSort>(ReadOnlySpan<float> weight, in RebalanceShape s, ReferenceWorkspace ws)
        where TSort : struct, IDescendingSort
    {
        int groupSize = s.GroupSize;
        Span<float> groupLoads = ws.GroupLoads.AsSpan(0, s.Groups);
        for (int j = 0; j < groupLoads.Length; j++)
        {
            groupLoads[j] = FixedOrderSum.Sum(weight.Slice(j * groupSize, groupSize));
        }

        // Each group's slot among the groups, node after node: gp * (g / n) + gr in the reference.
        Span<int> groupSlot = ws.GroupSlot.AsSpan(0, s.Groups);
        BalancedPacking.PackRow<TSort>(groupLoads, s.Nodes, groupSlot, ws.First.Packing);

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
