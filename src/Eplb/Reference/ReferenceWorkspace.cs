namespace Eplb;

/// <summary>
/// The reference placer's scratch for one layer at a time, kept per thread between calls so that steady-state calls
/// allocate nothing — unless it outgrows <see cref="RebalanceLimits.MaxRetainedScratchBytes"/>, in which case it is
/// left to the garbage collector when the call ends.
/// </summary>
internal sealed class ReferenceWorkspace
{
    [ThreadStatic]
    private static ReferenceWorkspace? t_kept;

    private ReferenceWorkspace()
    {
    }

    /// <summary><c>tokens_per_group</c>.</summary>
    public float[] GroupLoads { get; private set; } = [];

    /// <summary>Each group's position among the groups once they are in node order: <c>gp * (g / n) + gr</c>.</summary>
    public int[] GroupSlot { get; private set; } = [];

    /// <summary><c>log2mlog</c>: each expert's position once every node's experts are contiguous.</summary>
    public int[] LogicalToNodeOrder { get; private set; } = [];

    /// <summary><c>mlog2log</c>: the inverse of <see cref="LogicalToNodeOrder"/>.</summary>
    public int[] NodeOrderToLogical { get; private set; } = [];

    /// <summary><c>mlogcnt</c>: replica counts in node order.</summary>
    public int[] NodeOrderCounts { get; private set; } = [];

    /// <summary>One node's loads in node order, when the relabelling is not the identity.</summary>
    public float[] NodeLoads { get; private set; } = [];

    /// <summary>Replication's tournament tree; its leaves end as each expert's <see cref="ShareKey"/>.</summary>
    public ulong[] ReplicationTree { get; private set; } = [];

    /// <summary>Replication's next two shares per expert.</summary>
    public float[] UpcomingShares { get; private set; } = [];

    /// <summary>The first node in progress; its packing scratch also packs groups onto nodes.</summary>
    public NodeScratch First { get; } = new();

    /// <summary>The second node in progress: nodes are placed two at a time.</summary>
    public NodeScratch Second { get; } = new();

    private long Bytes =>
        (sizeof(float) * ((long)GroupLoads.Length + NodeLoads.Length + UpcomingShares.Length))
        + (sizeof(int) * ((long)GroupSlot.Length + LogicalToNodeOrder.Length + NodeOrderToLogical.Length + NodeOrderCounts.Length))
        + (sizeof(ulong) * (long)ReplicationTree.Length) + First.Bytes + Second.Bytes;

    /// <summary>This thread's workspace, grown for <paramref name="shape"/>; give it back with <see cref="Return"/>.</summary>
    public static ReferenceWorkspace Rent(in RebalanceShape shape)
    {
        ReferenceWorkspace workspace = t_kept ?? new ReferenceWorkspace();
        t_kept = null;
        workspace.EnsureCapacity(shape);
        return workspace;
    }

    /// <summary>Keeps <paramref name="workspace"/> for this thread's next call, unless it is too large to keep.</summary>
    public static void Return(ReferenceWorkspace workspace) => t_kept = Scratch.MayRetain(workspace.Bytes) ? workspace : null;

    // Only what the shape's path uses: a call at the size limit must not allocate lanes it never touches.
    private void EnsureCapacity(in RebalanceShape s)
    {
        bool relabels = !s.KeepsExpertOrder;
        if (relabels)
        {
            GroupLoads = Grow(GroupLoads, s.Groups);
            GroupSlot = Grow(GroupSlot, s.Groups);
            LogicalToNodeOrder = Grow(LogicalToNodeOrder, s.Experts);
            NodeOrderToLogical = Grow(NodeOrderToLogical, s.Experts);
            NodeOrderCounts = Grow(NodeOrderCounts, s.Experts);
            NodeLoads = Grow(NodeLoads, s.ExpertsPerNode);
        }

        ReplicationTree = Grow(ReplicationTree, TournamentTree.Length(s.ExpertsPerNode));
        UpcomingShares = Grow(UpcomingShares, 2 * s.ExpertsPerNode);

        // Nodes pass through the lanes unless replication writes straight into the layer (ReferencePlacer).
        bool usesLanes = relabels || s.SlotsPerGpu > 1;
        int packedReplicas = s.SlotsPerGpu > 1 ? s.SlotsPerNode : 0, gpuPacks = s.SlotsPerGpu > 1 ? s.GpusPerNode : 0;
        First.EnsureCapacity(usesLanes ? s.SlotsPerNode : 0, Math.Max(relabels ? s.Groups : 0, packedReplicas), Math.Max(relabels ? s.Nodes : 0, gpuPacks));
        if (usesLanes && s.Nodes > 1)
        {
            Second.EnsureCapacity(s.SlotsPerNode, packedReplicas, gpuPacks);
        }
    }

    internal static T[] Grow<T>(T[] array, int length) => array.Length < length ? new T[length] : array;
}
