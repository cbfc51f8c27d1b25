namespace Eplb;

/// <summary>
/// Budgeted migration: the best-balanced plan the search reaches from the placement in force within a budget of
/// expert copies per layer — for servers that cannot afford a fresh plan's copies (most expert weights, every time).
/// </summary>
/// <remarks>
/// <para>
/// Per layer the search starts from the placement in force, scored on the new loads, and relieves the busiest GPU
/// move by move: it swaps two replicas between GPUs, or hands a redundant replica of one expert over to another
/// (changing both replica counts). Moves that copy nothing go first; a move that copies goes only when no free one
/// helps and the layer's budget still covers it. Each move lowers the busiest GPU's load, or leaves fewer GPUs at it,
/// so balance never gets worse than the placement in force's. Under the hierarchical policy replicas move only
/// within their node, so every expert stays on the node that holds it now (its group's, for a hierarchical plan).
/// </para>
/// <para>
/// A copy is as in <see cref="PlanMigration"/>: an expert a GPU holds in the new plan and not in the placement in
/// force. Replica ranks follow slot order. The search is deterministic: the same inputs give the same plan on every
/// machine. With a budget of 0 it still applies every move that copies nothing (swaps of replicas a GPU already had).
/// </para>
/// </remarks>
public static class BudgetedRebalance
{
    /// <summary>Plans from <paramref name="placementInForce"/> towards balance on <paramref name="weight"/>, copying at most <paramref name="maxCopiesPerLayer"/> expert weights per layer.</summary>
    /// <param name="weight">New loads, <c>[layers, logicalExperts]</c> row-major: finite and non-negative.</param>
    /// <param name="numLayers">The number of layers.</param>
    /// <param name="placementInForce">The placement serving now: <c>phy2log</c>, <c>[layers, numReplicas]</c>, every expert at least once per layer.</param>
    /// <param name="numReplicas">Slots per layer (<c>num_replicas</c>).</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>): with <paramref name="numNodes"/>, selects the policy as <c>rebalance_experts</c> does.</param>
    /// <param name="numNodes">Nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs (<c>num_gpus</c>).</param>
    /// <param name="maxCopiesPerLayer">The most expert copies per layer: 0 or more.</param>
    /// <returns>The plan and its migration from the placement in force.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty, not a multiple of <paramref name="numLayers"/>, or holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive, <paramref name="numReplicas"/> is below the number of experts or above <see cref="RebalanceLimits.MaxPhysicalExperts"/>, or <paramref name="maxCopiesPerLayer"/> is negative.</exception>
    /// <exception cref="ArgumentException">The sizes break a rule of <c>rebalance_experts</c> (as <see cref="ExpertLoadBalancer.RebalanceExperts(ReadOnlySpan{float}, int, int, int, int, int, RebalanceOptions?)"/>).</exception>
    /// <exception cref="ArgumentException"><paramref name="placementInForce"/> does not hold <c>layers × numReplicas</c> entries, places an expert outside <c>[0, experts)</c> (-1, an unavailable GPU's slot, included), or leaves an expert without a slot in some layer.</exception>
    public static RelabelledPlan RebalanceExperts(ReadOnlySpan<float> weight, int numLayers, ReadOnlySpan<int> placementInForce,
        int numReplicas, int numGroups, int numNodes, int numGpus, int maxCopiesPerLayer)
    {
        ThrowHelper.ThrowIfEmpty(weight.Length, nameof(weight));
        ThrowHelper.ThrowIfNotPositive(numLayers, nameof(numLayers));
        ThrowHelper.ThrowIfNotMultiple(weight.Length, numLayers, nameof(numLayers), "the length of weight");
        RebalanceShape shape = RebalanceShape.Validate(numLayers, weight.Length / numLayers, numReplicas, numGroups, numNodes, numGpus);
        if (maxCopiesPerLayer < 0)
        {
            ThrowHelper.ThrowOutOfRange(nameof(maxCopiesPerLayer), maxCopiesPerLayer, $"maxCopiesPerLayer must be 0 or more, but is {maxCopiesPerLayer}.");
        }

        ThrowIfNotAFullPlacement(placementInForce, shape);
        ThrowHelper.ThrowIfInvalidLoads(weight, shape.Experts, nameof(weight));

        int experts = shape.Experts, slots = shape.Replicas, perGpu = shape.SlotsPerGpu;
        var physicalToLogical = new int[shape.Slots];
        var ranks = new int[shape.Slots];
        var logicalReplicaCount = new int[shape.Entries];
        var plan = new ScopePlan();
        var buffers = new SearchBuffers();
        var budget = new MigrationBudget(slots);
        plan.Reset(experts, shape.Gpus, perGpu);
        buffers.Reset(experts, shape.Gpus, slots);
        int copies = 0;
        for (int l = 0; l < numLayers; l++)
        {
            ReadOnlySpan<int> inForce = placementInForce.Slice(l * slots, slots);
            Span<int> counts = logicalReplicaCount.AsSpan(l * experts, experts);
            for (int e = 0; e < experts; e++)
            {
                plan.Weight[e] = weight[(l * experts) + e];
                plan.Counts[e] = 0;
            }

            foreach (int e in inForce)
            {
                plan.Counts[e]++;
            }

            inForce.CopyTo(plan.SlotExpert);
            budget.Start(inForce, plan.SlotExpert, perGpu, maxCopiesPerLayer);
            PlacementSearch.Improve(plan, buffers, shape.GpusPerNode, budget);

            Span<int> row = physicalToLogical.AsSpan(l * slots, slots);
            plan.SlotExpert.AsSpan(0, slots).CopyTo(row);
            LayerPlan.RankInSlotOrder(row, ranks.AsSpan(l * slots, slots), counts);
            copies += Copies(inForce, row, perGpu);
        }

        RebalancePlan result = RebalanceDriver.Assemble(shape, physicalToLogical, ranks, logicalReplicaCount);
        return new RelabelledPlan(result, PlanMigration.Counted(placementInForce.ToArray(), result, copies, copies));
    }

    /// <summary>Plans from <paramref name="placementInForce"/> towards balance on <paramref name="weight"/> (<see cref="RebalanceExperts(ReadOnlySpan{float}, int, ReadOnlySpan{int}, int, int, int, int, int)"/>).</summary>
    /// <param name="weight">New loads, <c>[layers, logicalExperts]</c>.</param>
    /// <param name="placementInForce">The placement serving now: <c>phy2log</c>, <c>[layers, numReplicas]</c> row-major.</param>
    /// <param name="numReplicas">Slots per layer.</param>
    /// <param name="numGroups">Expert groups.</param>
    /// <param name="numNodes">Nodes.</param>
    /// <param name="numGpus">GPUs.</param>
    /// <param name="maxCopiesPerLayer">The most expert copies per layer.</param>
    /// <returns>The plan and its migration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">As the span overload.</exception>
    /// <exception cref="ArgumentOutOfRangeException">As the span overload.</exception>
    public static RelabelledPlan RebalanceExperts(float[,] weight, ReadOnlySpan<int> placementInForce, int numReplicas, int numGroups, int numNodes, int numGpus, int maxCopiesPerLayer)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return RebalanceExperts(MatrixMarshal.AsSpan(weight), weight.GetLength(0), placementInForce, numReplicas, numGroups, numNodes, numGpus, maxCopiesPerLayer);
    }

    // Experts each GPU holds in the new row and did not in the old, once per GPU and expert.
    private static int Copies(ReadOnlySpan<int> inForce, ReadOnlySpan<int> row, int perGpu)
    {
        int copies = 0;
        for (int start = 0; start < row.Length; start += perGpu)
        {
            ReadOnlySpan<int> before = inForce.Slice(start, perGpu), after = row.Slice(start, perGpu);
            for (int s = 0; s < perGpu; s++)
            {
                copies += !before.Contains(after[s]) && !after.Slice(0, s).Contains(after[s]) ? 1 : 0;
            }
        }

        return copies;
    }

    private static void ThrowIfNotAFullPlacement(ReadOnlySpan<int> placement, in RebalanceShape shape)
    {
        if (placement.Length != shape.Slots)
        {
            ThrowHelper.Throw("placementInForce", $"placementInForce must hold layers x slots = {shape.Slots} entries, but holds {placement.Length}.");
        }

        var seen = new bool[shape.Experts];
        for (int l = 0; l < shape.Layers; l++)
        {
            Array.Clear(seen);
            foreach (int e in placement.Slice(l * shape.Replicas, shape.Replicas))
            {
                if ((uint)e >= (uint)shape.Experts)
                {
                    ThrowHelper.Throw("placementInForce", $"placementInForce places expert {e} in layer {l}, but experts run from 0 to {shape.Experts - 1} (budgeted migration needs every GPU available).");
                }

                seen[e] = true;
            }

            int missing = Array.IndexOf(seen, false);
            if (missing >= 0)
            {
                ThrowHelper.Throw("placementInForce", $"placementInForce places no replica of expert {missing} in layer {l}; every expert needs a slot.");
            }
        }
    }
}
