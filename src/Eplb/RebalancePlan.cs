using System.Numerics.Tensors;

namespace Eplb;

/// <summary>
/// A placement of physical expert replicas onto GPUs for every MoE layer: the three tensors that
/// <c>eplb.py</c>'s <c>rebalance_experts</c> returns, with their sizes.
/// </summary>
/// <remarks>
/// Physical slot <c>p</c> lives on GPU <c>p / (NumPhysicalExperts / numGpus)</c>; GPU <c>g</c> lives on node
/// <c>g / (numGpus / numNodes)</c>. The tensors are views of the plan's own arrays and stay valid as long as
/// the plan does; the plan is immutable and safe to share across threads. A plan made by relabelling
/// (<see cref="PlanRelabelling"/>) builds its <see cref="LogicalToPhysical"/> when it is first read, so that a server
/// that decides not to migrate never pays for it.
/// </remarks>
public sealed class RebalancePlan
{
    private readonly int[] _physicalToLogical;
    private readonly int[] _logicalReplicaCount;
    private int[]? _logicalToPhysical;
    private RenumberedSlots? _renumbering; // until _logicalToPhysical is built, what to build it from

    internal RebalancePlan(int numLayers, int numLogicalExperts, int numPhysicalExperts, int numGpus, int numNodes, int maxReplicaCount, RebalancePolicy policy,
        int[] physicalToLogical, int[] logicalToPhysical, int[] logicalReplicaCount)
        : this(numLayers, numLogicalExperts, numPhysicalExperts, numGpus, numNodes, maxReplicaCount, policy, physicalToLogical, logicalReplicaCount)
    {
        _logicalToPhysical = logicalToPhysical;
    }

    private RebalancePlan(int numLayers, int numLogicalExperts, int numPhysicalExperts, int numGpus, int numNodes, int maxReplicaCount, RebalancePolicy policy,
        int[] physicalToLogical, int[] logicalReplicaCount)
    {
        NumGpus = numGpus;
        NumNodes = numNodes;
        NumLayers = numLayers;
        NumLogicalExperts = numLogicalExperts;
        NumPhysicalExperts = numPhysicalExperts;
        MaxReplicaCount = maxReplicaCount;
        Policy = policy;
        _physicalToLogical = physicalToLogical;
        _logicalReplicaCount = logicalReplicaCount;
    }

    /// <summary>The number of MoE layers (<c>weight.shape[0]</c>).</summary>
    public int NumLayers { get; }

    /// <summary>The number of logical experts per layer (<c>num_logical_experts</c>).</summary>
    public int NumLogicalExperts { get; }

    /// <summary>The number of physical expert slots per layer (<c>num_replicas</c>).</summary>
    public int NumPhysicalExperts { get; }

    /// <summary>The GPUs the plan places slots on (<c>num_gpus</c>).</summary>
    public int NumGpus { get; }

    /// <summary>The nodes the GPUs are in (<c>num_nodes</c>, as the caller gave it, under either policy).</summary>
    public int NumNodes { get; }

    /// <summary>
    /// The largest replica count of any expert in any layer: the last dimension of <see cref="LogicalToPhysical"/>
    /// (<c>maxlogcnt</c> in <c>eplb.py</c>).
    /// </summary>
    public int MaxReplicaCount { get; }

    /// <summary>The procedure that produced this plan.</summary>
    public RebalancePolicy Policy { get; }

    /// <summary>
    /// <c>phy2log</c>, <c>[NumLayers, NumPhysicalExperts]</c>: the logical expert held by each physical slot.
    /// </summary>
    public ReadOnlyTensorSpan<int> PhysicalToLogical => new(_physicalToLogical, [NumLayers, NumPhysicalExperts]);

    /// <summary>
    /// <c>log2phy</c>, <c>[NumLayers, NumLogicalExperts, MaxReplicaCount]</c>: the physical slots of each logical
    /// expert, ordered by replica rank and padded with <c>-1</c>.
    /// </summary>
    public ReadOnlyTensorSpan<int> LogicalToPhysical => new(LogicalToPhysicalArray, [NumLayers, NumLogicalExperts, MaxReplicaCount]);

    /// <summary>
    /// <c>logcnt</c>, <c>[NumLayers, NumLogicalExperts]</c>: how many replicas each logical expert has (at least one).
    /// </summary>
    public ReadOnlyTensorSpan<int> LogicalReplicaCount => new(_logicalReplicaCount, [NumLayers, NumLogicalExperts]);

    /// <summary>
    /// The same plan with its GPUs and slots renumbered (relabelling): slot <c>s</c> of layer <c>l</c> becomes
    /// <c>slotOf[l * NumPhysicalExperts + s]</c>, and <paramref name="physicalToLogical"/> is the <c>phy2log</c> that
    /// follows. The replica counts are shared, as plans are immutable; <c>log2phy</c> is built from this plan's when
    /// first read.
    /// </summary>
    internal RebalancePlan Renumbered(int[] physicalToLogical, int[] slotOf)
    {
        // Renumbering a plan whose log2phy is not built yet composes the two renumberings, so that relabelling
        // relabelled plans keeps no chain of plans alive.
        RenumberedSlots? pending = Volatile.Read(ref _renumbering);
        RenumberedSlots renumbering = pending is not null && Volatile.Read(ref _logicalToPhysical) is null
            ? pending.Then(slotOf)
            : new RenumberedSlots(this, slotOf);
        return new(NumLayers, NumLogicalExperts, NumPhysicalExperts, NumGpus, NumNodes, MaxReplicaCount, Policy, physicalToLogical, _logicalReplicaCount)
        {
            _renumbering = renumbering,
        };
    }

    // log2phy, built first if this plan was renumbered: every thread that reads it reads the same array.
    private int[] LogicalToPhysicalArray
    {
        get
        {
            RenumberedSlots? renumbering = Volatile.Read(ref _renumbering);
            if (renumbering is not null && Volatile.Read(ref _logicalToPhysical) is null)
            {
                Interlocked.CompareExchange(ref _logicalToPhysical, renumbering.BuildLogicalToPhysical(), null);
                _renumbering = null; // lets the source plan go
            }

            return Volatile.Read(ref _logicalToPhysical)!;
        }
    }

    internal ReadOnlySpan<int> PhysicalToLogicalSpan => _physicalToLogical;

    internal ReadOnlySpan<int> LogicalToPhysicalSpan => LogicalToPhysicalArray;

    internal ReadOnlySpan<int> LogicalReplicaCountSpan => _logicalReplicaCount;

    /// <summary>One layer's row of <see cref="PhysicalToLogical"/>: the logical expert of each physical slot.</summary>
    /// <param name="layer">The layer, <c>0 &lt;= layer &lt; NumLayers</c>.</param>
    /// <returns>A span of <see cref="NumPhysicalExperts"/> expert ids.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is outside <c>[0, NumLayers)</c>.</exception>
    public ReadOnlySpan<int> GetPhysicalToLogical(int layer) =>
        _physicalToLogical.AsSpan(CheckLayer(layer) * NumPhysicalExperts, NumPhysicalExperts);

    /// <summary>One layer's row of <see cref="LogicalReplicaCount"/>: the replica count of each logical expert.</summary>
    /// <param name="layer">The layer, <c>0 &lt;= layer &lt; NumLayers</c>.</param>
    /// <returns>A span of <see cref="NumLogicalExperts"/> counts.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is outside <c>[0, NumLayers)</c>.</exception>
    public ReadOnlySpan<int> GetLogicalReplicaCount(int layer) =>
        _logicalReplicaCount.AsSpan(CheckLayer(layer) * NumLogicalExperts, NumLogicalExperts);

    /// <summary>The physical slots of one logical expert in one layer, by replica rank, without the <c>-1</c> padding.</summary>
    /// <param name="layer">The layer, <c>0 &lt;= layer &lt; NumLayers</c>.</param>
    /// <param name="expert">The logical expert, <c>0 &lt;= expert &lt; NumLogicalExperts</c>.</param>
    /// <returns>A span of the expert's replica count.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is outside <c>[0, NumLayers)</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="expert"/> is outside <c>[0, NumLogicalExperts)</c>.</exception>
    public ReadOnlySpan<int> GetLogicalToPhysical(int layer, int expert)
    {
        CheckLayer(layer);
        ArgumentOutOfRangeException.ThrowIfNegative(expert);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(expert, NumLogicalExperts);
        int row = (layer * NumLogicalExperts) + expert;
        return LogicalToPhysicalArray.AsSpan(row * MaxReplicaCount, _logicalReplicaCount[row]);
    }

    private int CheckLayer(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(layer, NumLayers);
        return layer;
    }
}
