namespace Eplb;

/// <summary>
/// The reference placer: <c>rebalance_experts_hierarchical</c> of DeepSeek's <c>eplb.py</c> for one layer, returning
/// exactly what it returns, ties broken by <typeparamref name="TSort"/>'s order. The global policy is the same
/// procedure with one group and one node (<see cref="RebalanceShape"/>).
/// </summary>
/// <remarks>
/// The steps, each in a file named after the reference's comment: 1. <see cref="GroupsToNodes"/>; 2.
/// <see cref="ReplicationWithinNodes"/>; 3. <see cref="PackingOntoGpus"/>. The shortcuts here are the reference's own
/// identities, taken without the work: with one group per node, the relabelling of step 1 is the identity; with one
/// slot per GPU, the packing of step 3 is (the reference skips its sort there too).
/// </remarks>
/// <typeparam name="TSort">The tie order of the sort the emulated PyTorch uses.</typeparam>
internal readonly struct ReferencePlacer<TSort> : ILayerPlacer<ReferencePlacer<TSort>>
    where TSort : struct, IDescendingSort
{
    private readonly RebalanceShape _shape;
    private readonly ReferenceWorkspace _workspace;

    private ReferencePlacer(in RebalanceShape shape, ReferenceWorkspace workspace)
    {
        _shape = shape;
        _workspace = workspace;
    }

    public static ReferencePlacer<TSort> Create(in RebalanceShape shape, RebalanceOptions options) => new(shape, ReferenceWorkspace.Rent(shape));

    public void Dispose() => ReferenceWorkspace.Return(_workspace);

    public void PlaceLayer(int layer, ReadOnlySpan<float> weight, in LayerPlan plan)
    {
        ref readonly RebalanceShape s = ref _shape;
        ReferenceWorkspace ws = _workspace;

        // Step 1. With one group per node, experts keep their labels: replication counts them in place.
        Span<int> nodeOrderCounts = s.KeepsExpertOrder ? plan.LogicalReplicaCount : ws.NodeOrderCounts.AsSpan(0, s.Experts);
        if (!s.KeepsExpertOrder)
        {
            GroupsToNodes.Pack<TSort>(weight, s, ws);
        }

        if (s.KeepsExpertOrder && s.SlotsPerGpu == 1)
        {
            ReplicateIntoPlace(weight, s, plan);
            return;
        }

        // Steps 2 and 3, two nodes at a time: their GPU packings are independent serial chains, packed interleaved.
        ReadOnlySpan<int> nodeOrderToLogical = s.KeepsExpertOrder ? default : ws.NodeOrderToLogical.AsSpan(0, s.Experts);
        bool packs = s.SlotsPerGpu > 1;
        for (int node = 0; node < s.Nodes; node += 2)
        {
            NodeScratch first = ws.First;
            NodeScratch? second = node + 1 < s.Nodes ? ws.Second : null;
            ReplicateNode(weight, s, node, first, nodeOrderCounts, ws, packs);
            if (second is not null)
            {
                ReplicateNode(weight, s, node + 1, second, nodeOrderCounts, ws, packs);
            }

            if (packs)
            {
                PackingOntoGpus.Pack<TSort>(s, first, second);
            }

            PackingOntoGpus.Place(s, node, first, nodeOrderToLogical, plan);
            if (second is not null)
            {
                PackingOntoGpus.Place(s, node + 1, second, nodeOrderToLogical, plan);
            }
        }

        // logcnt = mlogcnt read through log2mlog.
        if (!s.KeepsExpertOrder)
        {
            ReadOnlySpan<int> logicalToNodeOrder = ws.LogicalToNodeOrder.AsSpan(0, s.Experts);
            Span<int> logicalReplicaCount = plan.LogicalReplicaCount;
            for (int e = 0; e < logicalReplicaCount.Length; e++)
            {
                logicalReplicaCount[e] = nodeOrderCounts[logicalToNodeOrder[e]];
            }
        }
    }

    private static void ReplicateNode(ReadOnlySpan<float> weight, in RebalanceShape s, int node, NodeScratch scratch,
        Span<int> nodeOrderCounts, ReferenceWorkspace ws, bool makePackKeys)
    {
        int slotsPerNode = s.SlotsPerNode;
        ReplicationWithinNodes.Replicate(weight, s, node, scratch.SlotExpert.AsSpan(0, slotsPerNode), scratch.SlotReplicaRank.AsSpan(0, slotsPerNode),
            nodeOrderCounts, ws, makePackKeys ? scratch.Keys.AsSpan(0, slotsPerNode) : default);
    }

    // No relabelling and one slot per GPU: both steps around replication are identities, so each node's replication
    // writes straight into its slots of the layer; only node-local expert ids need their node's offset.
    private void ReplicateIntoPlace(ReadOnlySpan<float> weight, in RebalanceShape s, in LayerPlan plan)
    {
        int slotsPerNode = s.SlotsPerNode;
        for (int node = 0; node < s.Nodes; node++)
        {
            Span<int> slots = plan.PhysicalToLogical.Slice(node * slotsPerNode, slotsPerNode);
            ReplicationWithinNodes.Replicate(weight, s, node, slots, plan.ReplicaRank.Slice(node * slotsPerNode, slotsPerNode),
                plan.LogicalReplicaCount, _workspace, packKeys: default);
            int offset = node * s.ExpertsPerNode;
            for (int i = 0; offset != 0 && i < slots.Length; i++)
            {
                slots[i] += offset;
            }
        }
    }
}
