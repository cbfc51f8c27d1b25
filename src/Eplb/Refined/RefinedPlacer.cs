namespace Eplb;

/// <summary>
/// The refined placer (<see cref="RebalanceAlgorithm.Refined"/>): per layer, groups to nodes by their achievable
/// load (hierarchical policy), then within each node — or over all GPUs (global policy) — replica counts and
/// placement improved together; where the reference's plan for the layer is better, it is improved instead.
/// </summary>
/// <remarks>
/// <para>
/// Steps per scope (docs/refined.md): greedy counts capped at the scope's GPUs (<see cref="ReplicaCounts"/>); with
/// few slots per GPU, counts searched together with their packing (<see cref="CountSearch"/>); heaviest-first
/// packing with no duplicate (<see cref="SlotPacking"/>); then swaps and hand-overs off the busiest GPU
/// (<see cref="PlacementSearch"/>).
/// </para>
/// <para>
/// The reference placer runs first, into the layer's rows; the refined plan replaces it when its busiest GPU is no
/// busier (loads summed as <see cref="LayerDiagnostics"/> sums them), and otherwise the reference's plan is improved
/// node by node by the placement search, which never raises a maximum. So, per layer, the refined maximum is
/// never above the reference's — the guarantee the option documents — and it is the same on every machine, since
/// every step is scalar arithmetic in a fixed order with total orders for ties.
/// </para>
/// </remarks>
/// <typeparam name="TSort">The reference's tie order, for the reference plan it competes with.</typeparam>
internal readonly struct RefinedPlacer<TSort> : ILayerPlacer<RefinedPlacer<TSort>>
    where TSort : struct, IDescendingSort
{
    /// <summary>Slots per GPU up to which counts are searched together with their packing.</summary>
    public const int CountSearchSlotsPerGpu = 4;

    private readonly RebalanceShape _shape;
    private readonly ReferencePlacer<TSort> _reference;
    private readonly RefinedWorkspace _workspace;

    private RefinedPlacer(in RebalanceShape shape, ReferencePlacer<TSort> reference, RefinedWorkspace workspace)
    {
        _shape = shape;
        _reference = reference;
        _workspace = workspace;
    }

    public static RefinedPlacer<TSort> Create(in RebalanceShape shape, RebalanceOptions options) =>
        new(shape, ReferencePlacer<TSort>.Create(shape, options), RefinedWorkspace.Rent(shape));

    public void Dispose()
    {
        _reference.Dispose();
        RefinedWorkspace.Return(_workspace);
    }

    public void PlaceLayer(int layer, ReadOnlySpan<float> weight, in LayerPlan plan)
    {
        _reference.PlaceLayer(layer, weight, plan);
        double reference = BusiestGpuLoad(weight, plan.PhysicalToLogical, plan.LogicalReplicaCount, _shape.SlotsPerGpu);

        ref readonly RebalanceShape s = ref _shape;
        RefinedWorkspace ws = _workspace;
        Span<int> row = ws.Row(s.Replicas), counts = ws.Counts(s.Experts);
        ReadOnlySpan<int> nodeGroups = default;
        if (s.Nodes > 1)
        {
            ws.Groups.Assign(weight, s);
            nodeGroups = ws.Groups.NodeGroups;
        }

        for (int node = 0; node < s.Nodes; node++)
        {
            Span<int> scopeToLogical = ws.ScopeToLogical(s.ExpertsPerNode);
            if (s.Nodes > 1)
            {
                for (int i = 0, at = 0; i < s.GroupsPerNode; i++)
                {
                    int group = nodeGroups[(node * s.GroupsPerNode) + i];
                    for (int e = group * s.GroupSize; e < (group + 1) * s.GroupSize; e++)
                    {
                        scopeToLogical[at++] = e;
                    }
                }
            }
            else
            {
                for (int e = 0; e < scopeToLogical.Length; e++)
                {
                    scopeToLogical[e] = e;
                }
            }

            PlaceScope(weight, scopeToLogical, row.Slice(node * s.SlotsPerNode, s.SlotsPerNode), counts);
        }

        // Rarely (small, odd cases) the reference's plan is the better start: then it is improved instead, node by node.
        if (BusiestGpuLoad(weight, row, counts, s.SlotsPerGpu) > reference)
        {
            plan.PhysicalToLogical.CopyTo(row);
            plan.LogicalReplicaCount.CopyTo(counts);
            for (int node = 0; node < s.Nodes; node++)
            {
                ImproveScope(weight, row.Slice(node * s.SlotsPerNode, s.SlotsPerNode), counts);
            }
        }

        row.CopyTo(plan.PhysicalToLogical);
        LayerPlan.RankInSlotOrder(row, plan.ReplicaRank, plan.LogicalReplicaCount);
    }

    /// <summary>The busiest GPU's load: per GPU the sum, in slot order, of each slot's share.</summary>
    internal static double BusiestGpuLoad(ReadOnlySpan<float> weight, ReadOnlySpan<int> row, ReadOnlySpan<int> counts, int slotsPerGpu)
    {
        double max = 0;
        for (int s = 0; s < row.Length;)
        {
            double load = 0;
            for (int end = s + slotsPerGpu; s < end; s++)
            {
                load += weight[row[s]] / (double)counts[row[s]];
            }

            max = Math.Max(max, load);
        }

        return max;
    }

    private void PlaceScope(ReadOnlySpan<float> weight, ReadOnlySpan<int> scopeToLogical, Span<int> slots, Span<int> logicalCounts)
    {
        ref readonly RebalanceShape s = ref _shape;
        RefinedWorkspace ws = _workspace;
        ScopePlan scope = ws.Plan;
        int experts = scopeToLogical.Length, gpus = s.GpusPerNode, perGpu = s.SlotsPerGpu;
        scope.Reset(experts, gpus, perGpu);
        for (int e = 0; e < experts; e++)
        {
            scope.Weight[e] = weight[scopeToLogical[e]];
        }

        // Counts beyond the GPUs would force a duplicate; only when the experts cannot fill the slots otherwise.
        int cap = (long)experts * gpus >= slots.Length ? gpus : slots.Length;
        ReplicaCounts.Greedy(scope.Weight.AsSpan(0, experts), slots.Length, cap, scope.Counts, ws.Packing.Order);
        SlotPacking.Pack(scope, ws.Packing);
        double max = PlacementSearch.Improve(scope, ws.Search, scope.Gpus);

        // Few slots per GPU: counts searched with their packing compete with the greedy's.
        if (perGpu > 1 && perGpu <= CountSearchSlotsPerGpu)
        {
            ScopePlan searched = ws.Trial;
            searched.CopyFrom(scope);
            if (CountSearch.Improve(searched, ws.CountSearch))
            {
                SlotPacking.Pack(searched, ws.Packing);
                double searchedMax = PlacementSearch.Improve(searched, ws.Search, searched.Gpus);
                if (searchedMax < max || (searchedMax == max && searched.Duplicates() < scope.Duplicates()))
                {
                    scope = searched;
                }
            }
        }

        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = scopeToLogical[scope.SlotExpert[i]];
        }

        for (int e = 0; e < experts; e++)
        {
            logicalCounts[scopeToLogical[e]] = scope.Counts[e];
        }
    }

    // The reference's plan for one scope, its experts numbered by first appearance, improved by the placement search.
    private void ImproveScope(ReadOnlySpan<float> weight, Span<int> slots, Span<int> logicalCounts)
    {
        RefinedWorkspace ws = _workspace;
        ScopePlan scope = ws.Plan;
        Span<int> scopeToLogical = ws.ScopeToLogical(_shape.ExpertsPerNode), scopeOf = ws.ScopeOf(_shape.Experts);
        int experts = 0;
        foreach (int e in slots)
        {
            scopeOf[e] = -1;
        }

        scope.Reset(_shape.ExpertsPerNode, _shape.GpusPerNode, _shape.SlotsPerGpu);
        for (int i = 0; i < slots.Length; i++)
        {
            int e = slots[i];
            if (scopeOf[e] < 0)
            {
                scopeOf[e] = experts;
                scopeToLogical[experts] = e;
                scope.Weight[experts] = weight[e];
                scope.Counts[experts] = logicalCounts[e];
                experts++;
            }

            scope.SlotExpert[i] = scopeOf[e];
        }

        PlacementSearch.Improve(scope, ws.Search, scope.Gpus);
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = scopeToLogical[scope.SlotExpert[i]];
        }

        for (int e = 0; e < experts; e++)
        {
            logicalCounts[scopeToLogical[e]] = scope.Counts[e];
        }
    }
}
