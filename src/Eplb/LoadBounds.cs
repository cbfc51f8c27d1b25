namespace Eplb;

/// <summary>
/// Lower bounds on the busiest GPU's load, for one layer's loads: what no plan can beat (<c>LB</c>), and what no plan
/// that keeps whole expert groups on nodes can beat (<c>LB_hier</c>). Their ratio is what the hierarchical policy's
/// locality costs on those loads. Definitions: docs/load-model.md.
/// </summary>
public static class LoadBounds
{
    /// <summary>
    /// <c>LB = max(W / G, m*)</c>: <c>W</c> the layer's total load, <c>m*</c> the least possible largest load per
    /// replica over replica counts that fill <paramref name="numReplicas"/> slots (each expert at least one).
    /// </summary>
    /// <param name="weight">One layer's loads, one per logical expert: finite and non-negative.</param>
    /// <param name="numReplicas">Slots in the layer (<c>num_replicas</c>).</param>
    /// <param name="numGpus">GPUs (<c>num_gpus</c>): divides <paramref name="numReplicas"/>.</param>
    /// <returns>The bound.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty, or holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> or <paramref name="numGpus"/> is not positive, <paramref name="numReplicas"/> is below the number of experts, or above <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    public static double LowerBound(ReadOnlySpan<float> weight, int numReplicas, int numGpus)
    {
        ThrowHelper.ThrowIfEmpty(weight.Length, nameof(weight));
        RebalanceShape.Validate(1, weight.Length, numReplicas, 1, 1, numGpus);
        ThrowHelper.ThrowIfInvalidLoads(weight, weight.Length, nameof(weight));
        double total = 0;
        foreach (float load in weight)
        {
            total += load;
        }

        return Math.Max(total / numGpus, ReplicaCounts.LeastLargestShare(weight, numReplicas));
    }

    /// <summary>
    /// <c>LB_hier</c>: the least, over assignments of <c>numGroups / numNodes</c> whole groups to each node, of the
    /// busiest node's bound <c>max(node total / (G / n), m*</c> of its experts in <c>P / n</c> slots<c>)</c>.
    /// </summary>
    /// <remarks>
    /// Exact while the assignments number at most 20,000 (8 groups on 4 nodes: 105; 12 groups on 6 nodes: 10,395);
    /// beyond, the best a local search finds, which may lie above the true bound.
    /// </remarks>
    /// <param name="weight">One layer's loads, one per logical expert: finite and non-negative.</param>
    /// <param name="numReplicas">Slots in the layer (<c>num_replicas</c>).</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>): divides the experts, and <paramref name="numNodes"/> divides it.</param>
    /// <param name="numNodes">Nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/> dividing <paramref name="numReplicas"/>.</param>
    /// <returns>The bound.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty, or holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive, <paramref name="numReplicas"/> is below the number of experts or above <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numNodes"/> does not divide <paramref name="numGroups"/> (the hierarchical policy does not apply), <paramref name="numGroups"/> does not divide the experts, or the GPUs do not divide as <c>rebalance_experts</c> requires.</exception>
    public static double HierarchicalLowerBound(ReadOnlySpan<float> weight, int numReplicas, int numGroups, int numNodes, int numGpus)
    {
        ThrowHelper.ThrowIfEmpty(weight.Length, nameof(weight));
        RebalanceShape shape = RebalanceShape.Validate(1, weight.Length, numReplicas, numGroups, numNodes, numGpus);
        if (shape.Policy != RebalancePolicy.Hierarchical)
        {
            ThrowHelper.Throw(nameof(numNodes), $"numNodes ({numNodes}) must divide numGroups ({numGroups}) for a hierarchical bound: otherwise the reference plans globally.");
        }

        ThrowHelper.ThrowIfInvalidLoads(weight, weight.Length, nameof(weight));
        return new GroupAssignment().Assign(weight, shape);
    }
}
