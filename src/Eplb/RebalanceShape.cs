namespace Eplb;

/// <summary>
/// The sizes of one rebalance, after the policy is chosen: the global policy is the hierarchical procedure with
/// one group and one node, exactly as <c>rebalance_experts</c> calls it.
/// </summary>
internal readonly struct RebalanceShape
{
    public RebalanceShape(int numLayers, int numExperts, int numReplicas, int numGroups, int numNodes, int numGpus)
    {
        Policy = numGroups % numNodes == 0 ? RebalancePolicy.Hierarchical : RebalancePolicy.Global;
        if (Policy == RebalancePolicy.Global)
        {
            numGroups = 1;
            numNodes = 1;
        }

        Layers = numLayers;
        Experts = numExperts;
        Replicas = numReplicas;
        Groups = numGroups;
        Nodes = numNodes;
        Gpus = numGpus;
    }

    public RebalancePolicy Policy { get; }

    public int Layers { get; }

    public int Experts { get; }

    public int Replicas { get; }

    /// <summary>Effective group count (1 under the global policy).</summary>
    public int Groups { get; }

    /// <summary>Effective node count (1 under the global policy).</summary>
    public int Nodes { get; }

    public int Gpus { get; }

    public int GroupSize => Experts / Groups;

    public int GroupsPerNode => Groups / Nodes;

    public int ExpertsPerNode => Experts / Nodes;

    public int SlotsPerNode => Replicas / Nodes;

    public int GpusPerNode => Gpus / Nodes;

    public int SlotsPerGpu => Replicas / Gpus;

    /// <summary>With one group per node, group packing is the identity and experts keep their labels.</summary>
    public bool KeepsExpertOrder => Groups == Nodes;
}
