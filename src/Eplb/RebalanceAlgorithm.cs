namespace Eplb;

/// <summary>Which algorithm plans the replicas and their GPUs.</summary>
public enum RebalanceAlgorithm
{
    /// <summary>
    /// DeepSeek's <c>eplb.py</c>, bit for bit: a fast greedy (the default). Its plans are what a Python server computes
    /// for the same loads, ties broken by <see cref="RebalanceOptions.TieOrder"/>.
    /// </summary>
    Reference,

    /// <summary>
    /// Better-balanced plans from the same inputs and of the same shapes: the best assignment of groups to nodes (hierarchical
    /// policy), replica counts and placement improved together, no two replicas of one expert on one GPU where a plan
    /// without them is as good. Per layer its busiest GPU is never busier than the reference's. Deterministic, but not
    /// what <c>eplb.py</c> returns; see <c>docs/refined.md</c>.
    /// </summary>
    Refined,
}
