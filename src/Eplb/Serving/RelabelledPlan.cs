namespace Eplb;

/// <summary>A fresh plan relabelled to copy as few expert weights as possible, and its migration.</summary>
public sealed class RelabelledPlan
{
    internal RelabelledPlan(RebalancePlan plan, PlanMigration migration)
    {
        Plan = plan;
        Migration = migration;
    }

    /// <summary>The relabelled plan: the fresh plan's per-GPU loads and replica counts, GPUs and slots renumbered.</summary>
    public RebalancePlan Plan { get; }

    /// <summary>The copies it takes from the placement in force; <see cref="PlanMigration.FreshCopies"/> says what the fresh plan would have taken.</summary>
    public PlanMigration Migration { get; }
}
