namespace Eplb;

/// <summary>
/// Scratch buffers for rebalancing one layer, kept per thread and grown on demand, so steady-state calls
/// allocate nothing. Per-node buffers have two lanes, because nodes are processed in pairs.
/// </summary>
internal sealed class RebalanceWorkspace
{
    [ThreadStatic]
    private static RebalanceWorkspace? t_current;

    public float[] GroupLoads = [];
    public int[] GroupSlot = [];

    /// <summary><c>log2mlog</c>: each expert's position once every node's experts are contiguous.</summary>
    public int[] LogicalToNodeOrder = [];

    /// <summary><c>mlog2log</c>: the inverse of <see cref="LogicalToNodeOrder"/>.</summary>
    public int[] NodeOrderToLogical = [];

    /// <summary><c>mlogcnt</c>: replica counts in node order.</summary>
    public int[] NodeOrderCounts = [];

    public float[] NodeLoads = [];
    public int[] SlotExpert = [];
    public int[] SlotReplicaRank = [];
    /// <summary>Where packing puts each of a node's replicas: GPU * slots per GPU + rank on the GPU.</summary>
    public int[] SlotPosition = [];
    public int[] PackCounts = [];
    public int[] PackCountsB = [];
    public ulong[] Keys = [];
    public ulong[] KeysB = [];
    public ulong[] ReplicationTree = [];
    public float[] UpcomingShares = [];

    public static RebalanceWorkspace For(in RebalanceShape shape)
    {
        RebalanceWorkspace workspace = t_current ??= new RebalanceWorkspace();
        workspace.EnsureCapacity(shape);
        return workspace;
    }

    private void EnsureCapacity(in RebalanceShape s)
    {
        Grow(ref GroupLoads, s.Groups);
        Grow(ref GroupSlot, s.Groups);
        Grow(ref LogicalToNodeOrder, s.Experts);
        Grow(ref NodeOrderToLogical, s.Experts);
        Grow(ref NodeOrderCounts, s.Experts);
        Grow(ref NodeLoads, s.ExpertsPerNode);
        Grow(ref SlotExpert, 2 * s.SlotsPerNode);
        Grow(ref SlotReplicaRank, 2 * s.SlotsPerNode);
        Grow(ref SlotPosition, 2 * s.SlotsPerNode);
        Grow(ref PackCounts, Math.Max(s.Nodes, s.GpusPerNode));
        Grow(ref PackCountsB, s.GpusPerNode);

        Grow(ref Keys, Math.Max(BalancedPacking.ScratchLength(s.Groups, s.Nodes), BalancedPacking.ScratchLength(s.SlotsPerNode, s.GpusPerNode)));
        Grow(ref KeysB, BalancedPacking.ScratchLength(s.SlotsPerNode, s.GpusPerNode));
        Grow(ref ReplicationTree, ExpertReplication.ScratchLength(s.ExpertsPerNode));
        Grow(ref UpcomingShares, 2 * s.ExpertsPerNode);
    }

    private static void Grow<T>(ref T[] array, int length)
    {
        if (array.Length < length)
        {
            array = new T[length];
        }
    }
}
