namespace Eplb;

/// <summary>
/// A plan made with the placement in force in mind, and its migration: a fresh plan relabelled to copy as few expert
/// weights as possible (<see cref="PlanRelabelling"/>), or a plan reached from the placement in force within a copy
/// budget (<see cref="BudgetedRebalance"/>).
/// </summary>
public sealed class RelabelledPlan
{
    internal RelabelledPlan(RebalancePlan plan, PlanMigration migration)
    {
        Plan = plan;
        Migration = migration;
    }

    /// <summary>
    /// The plan: relabelled, the fresh plan's per-GPU loads and replica counts with GPUs and slots renumbered; budgeted,
    /// the placement in force after the search's moves.
    /// </summary>
    public RebalancePlan Plan { get; }

    /// <summary>
    /// The copies it takes from the placement in force; for a relabelled plan <see cref="PlanMigration.FreshCopies"/>
    /// says what the fresh plan would have taken (for a budgeted one it equals <see cref="PlanMigration.Copies"/>).
    /// </summary>
    public PlanMigration Migration { get; }
}
