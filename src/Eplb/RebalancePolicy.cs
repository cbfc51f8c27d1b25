namespace Eplb;

/// <summary>Which of <c>eplb.py</c>'s two procedures produced a plan.</summary>
public enum RebalancePolicy
{
    /// <summary>
    /// Used when the node count divides the group count: whole expert groups are packed onto nodes, experts are
    /// replicated within each node, and replicas are packed onto that node's GPUs, so a group's traffic stays
    /// inside one node (<c>rebalance_experts_hierarchical</c> with the caller's groups and nodes).
    /// </summary>
    Hierarchical,

    /// <summary>
    /// Used otherwise: experts are replicated across the whole cluster and packed onto all GPUs
    /// (<c>rebalance_experts_hierarchical</c> called with one group and one node).
    /// </summary>
    Global,
}
