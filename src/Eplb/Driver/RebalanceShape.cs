namespace Eplb;

/// <summary>
/// The sizes of one rebalance, validated, and the policy they select.
/// </summary>
/// <remarks>
/// <c>rebalance_experts</c> runs <c>rebalance_experts_hierarchical</c> with the caller's groups and nodes when the
/// node count divides the group count, and with one group and one node otherwise (the global policy).
/// <see cref="Groups"/> and <see cref="Nodes"/> are what that procedure is called with; the caller's values stay in
/// <see cref="RequestedGroups"/> and <see cref="RequestedNodes"/>. With unavailable GPUs the plan is the global policy's
/// over the healthy GPUs only (<see cref="Placed"/>), spread back onto their GPU numbers.
/// </remarks>
internal readonly struct RebalanceShape
{
    private readonly int[]? _healthyGpus;

    private RebalanceShape(int numLayers, int numExperts, int numReplicas, int numGroups, int numNodes, int numGpus, int[]? healthyGpus = null)
    {
        _healthyGpus = healthyGpus;
        Layers = numLayers;
        Experts = numExperts;
        Replicas = numReplicas;
        Gpus = numGpus;
        RequestedGroups = numGroups;
        RequestedNodes = numNodes;
        Policy = numGroups % numNodes == 0 && healthyGpus is null ? RebalancePolicy.Hierarchical : RebalancePolicy.Global;
        Groups = Policy == RebalancePolicy.Hierarchical ? numGroups : 1;
        Nodes = Policy == RebalancePolicy.Hierarchical ? numNodes : 1;
    }

    public int Layers { get; }

    public int Experts { get; }

    public int Replicas { get; }

    public int Gpus { get; }

    /// <summary>The caller's <c>num_groups</c>.</summary>
    public int RequestedGroups { get; }

    /// <summary>The caller's <c>num_nodes</c>.</summary>
    public int RequestedNodes { get; }

    public RebalancePolicy Policy { get; }

    /// <summary>Whether some GPUs are unavailable: their slots hold -1.</summary>
    public bool HasUnavailableGpus => _healthyGpus is not null;

    /// <summary>The GPUs that take slots, ascending (with unavailable GPUs only).</summary>
    public ReadOnlySpan<int> HealthyGpus => _healthyGpus;

    /// <summary>
    /// The shape the placer plans: this one, or with unavailable GPUs the global policy over the healthy GPUs' slots,
    /// numbered densely.
    /// </summary>
    public RebalanceShape Placed => _healthyGpus is null ? this
        : new RebalanceShape(Layers, Experts, _healthyGpus.Length * SlotsPerGpu, 1, 1, _healthyGpus.Length);

    /// <summary>The groups the hierarchical procedure packs: the caller's, or 1 under the global policy.</summary>
    public int Groups { get; }

    /// <summary>The nodes the hierarchical procedure packs onto: the caller's, or 1 under the global policy.</summary>
    public int Nodes { get; }

    public int GroupSize => Experts / Groups;

    public int GroupsPerNode => Groups / Nodes;

    public int ExpertsPerNode => Experts / Nodes;

    public int SlotsPerNode => Replicas / Nodes;

    public int GpusPerNode => Gpus / Nodes;

    public int SlotsPerGpu => Replicas / Gpus;

    /// <summary>With one group per node, group packing is the identity and experts keep their labels.</summary>
    public bool KeepsExpertOrder => Groups == Nodes;

    /// <summary>Physical slots in all layers: the length of <c>phy2log</c>.</summary>
    public int Slots => Layers * Replicas;

    /// <summary>Logical experts in all layers: the length of the loads and of <c>logcnt</c>.</summary>
    public int Entries => Layers * Experts;

    /// <summary>
    /// Checks every size rule of <c>rebalance_experts</c> and the library's limits, in the order the messages are
    /// documented, before anything is allocated; the loads are checked separately, once they can be read as rows.
    /// </summary>
    public static RebalanceShape Validate(int numLayers, int numExperts, int numReplicas, int numGroups, int numNodes, int numGpus)
    {
        ThrowHelper.ThrowIfNotPositive(numReplicas, nameof(numReplicas));
        ThrowHelper.ThrowIfNotPositive(numGroups, nameof(numGroups));
        ThrowHelper.ThrowIfNotPositive(numNodes, nameof(numNodes));
        ThrowHelper.ThrowIfNotPositive(numGpus, nameof(numGpus));
        ThrowHelper.ThrowIfLess(numReplicas, numExperts, nameof(numReplicas), "the number of logical experts");
        ThrowHelper.ThrowIfTooManySlots(numReplicas, nameof(numReplicas));
        ThrowHelper.ThrowIfNotMultipleOf(numGpus, numNodes, nameof(numGpus), nameof(numNodes));
        ThrowHelper.ThrowIfNotMultipleOf(numReplicas, numGpus, nameof(numReplicas), nameof(numGpus));
        if (numGroups % numNodes == 0 && numExperts % numGroups != 0)
        {
            ThrowHelper.Throw(nameof(numGroups),
                $"numGroups ({numGroups}) must divide the number of logical experts ({numExperts}) under the hierarchical policy, " +
                $"which applies because numNodes ({numNodes}) divides numGroups.");
        }

        ThrowHelper.ThrowIfProductTooLarge(numLayers, numReplicas, nameof(numReplicas));
        return new RebalanceShape(numLayers, numExperts, numReplicas, numGroups, numNodes, numGpus);
    }

    /// <summary>
    /// This shape with <paramref name="unavailableGpus"/> taken out of service, checked: ids within <c>[0, Gpus)</c>,
    /// none twice, and the healthy GPUs' slots enough for one replica of every expert.
    /// </summary>
    public RebalanceShape WithUnavailableGpus(IReadOnlyList<int> unavailableGpus, string paramName)
    {
        if (unavailableGpus.Count == 0)
        {
            return this;
        }

        var down = new bool[Gpus];
        foreach (int gpu in unavailableGpus)
        {
            if ((uint)gpu >= (uint)Gpus)
            {
                ThrowHelper.Throw(paramName, $"UnavailableGpus names GPU {gpu}, but GPUs run from 0 to {Gpus - 1} (numGpus is {Gpus}).");
            }

            if (down[gpu])
            {
                ThrowHelper.Throw(paramName, $"UnavailableGpus names GPU {gpu} twice.");
            }

            down[gpu] = true;
        }

        int healthy = Gpus - unavailableGpus.Count;
        if ((long)healthy * SlotsPerGpu < Experts)
        {
            ThrowHelper.Throw(paramName,
                $"UnavailableGpus leaves {healthy} GPUs with {(long)healthy * SlotsPerGpu} slots per layer, fewer than the {Experts} logical experts: every expert needs a slot.");
        }

        var healthyGpus = new int[healthy];
        for (int gpu = 0, next = 0; gpu < Gpus; gpu++)
        {
            if (!down[gpu])
            {
                healthyGpus[next++] = gpu;
            }
        }

        return new RebalanceShape(Layers, Experts, Replicas, RequestedGroups, RequestedNodes, Gpus, healthyGpus);
    }
}
