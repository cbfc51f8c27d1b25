namespace Eplb;

/// <summary>
/// Whether a new plan is worth its migration: the placement in force and a candidate judged on the same loads, the
/// gain in balance, the expert weights it would copy, and the verdict against the caller's threshold — so that a
/// server skips migrations that buy nothing.
/// </summary>
/// <remarks>
/// Judge on the loads the candidate was planned from (a recent window), or better on newer ones: on its own loads a
/// fresh plan looks its best, and the gain that matters is the one on the loads still to come.
/// </remarks>
public sealed class RebalanceDecision
{
    private RebalanceDecision(PlacementDiagnostics inForce, PlacementDiagnostics candidate, RelabelledPlan plan, double minimumGain)
    {
        InForce = inForce;
        Candidate = candidate;
        Plan = plan;
        MinimumGain = minimumGain;
    }

    /// <summary>The placement in force on the loads.</summary>
    public PlacementDiagnostics InForce { get; }

    /// <summary>The candidate on the same loads.</summary>
    public PlacementDiagnostics Candidate { get; }

    /// <summary>The candidate, relabelled, and its migration.</summary>
    public RelabelledPlan Plan { get; }

    /// <summary>The overall balancedness of the placement in force (Σ mean GPU loads / Σ max GPU loads).</summary>
    public double BalancednessNow => InForce.Balancedness;

    /// <summary>The overall balancedness of the candidate.</summary>
    public double BalancednessAfter => Candidate.Balancedness;

    /// <summary><see cref="BalancednessAfter"/> − <see cref="BalancednessNow"/>.</summary>
    public double Gain => BalancednessAfter - BalancednessNow;

    /// <summary>The expert weights the migration copies (<see cref="PlanMigration.Copies"/>).</summary>
    public int Copies => Plan.Migration.Copies;

    /// <summary>The threshold the gain was held to.</summary>
    public double MinimumGain { get; }

    /// <summary>Whether the gain reaches <see cref="MinimumGain"/> (and is positive): migrate to <see cref="Plan"/>.</summary>
    public bool ShouldRebalance => Gain > 0 && Gain >= MinimumGain;

    /// <summary>Judges <paramref name="candidate"/> against <paramref name="placementInForce"/> on <paramref name="weight"/>.</summary>
    /// <param name="weight">Loads, <c>[layers, logicalExperts]</c> row-major: finite and non-negative.</param>
    /// <param name="placementInForce">The placement serving now: <c>phy2log</c>, <c>[layers, slots]</c> of the candidate's shape; -1 for unavailable slots.</param>
    /// <param name="candidate">The plan to judge, relabelled against <paramref name="placementInForce"/> (<see cref="PlanRelabelling.Relabel(RebalancePlan, ReadOnlySpan{int})"/>).</param>
    /// <param name="minimumGain">The least gain in overall balancedness worth a migration, in <c>[0, 1]</c>: 0.02 asks for two points.</param>
    /// <returns>The decision.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="candidate"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minimumGain"/> is outside <c>[0, 1]</c>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is not <c>layers × logicalExperts</c> of the candidate, or holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentException"><paramref name="placementInForce"/> does not hold <c>layers × slots</c> entries, or places an expert outside <c>[-1, experts)</c>, or none of some expert.</exception>
    public static RebalanceDecision Evaluate(ReadOnlySpan<float> weight, ReadOnlySpan<int> placementInForce, RelabelledPlan candidate, double minimumGain)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (!(minimumGain >= 0 && minimumGain <= 1))
        {
            ThrowHelper.ThrowOutOfRange(nameof(minimumGain), minimumGain, $"minimumGain must be between 0 and 1, but is {minimumGain}.");
        }

        RebalancePlan plan = candidate.Plan;
        if (weight.Length != plan.NumLayers * plan.NumLogicalExperts)
        {
            ThrowHelper.Throw(nameof(weight), $"weight must hold layers x experts = {plan.NumLayers} x {plan.NumLogicalExperts} loads, as the candidate, but holds {weight.Length}.");
        }

        PlanRelabelling.ThrowIfNotAPlacement(plan, placementInForce);
        PlacementDiagnostics now = PlacementDiagnostics.Analyze(weight, plan.NumLayers, placementInForce, plan.NumGpus, plan.NumNodes);
        PlacementDiagnostics after = PlacementDiagnostics.Analyze(weight, plan.NumLayers, plan.PhysicalToLogicalSpan, plan.NumGpus, plan.NumNodes);
        return new RebalanceDecision(now, after, candidate, minimumGain);
    }

    /// <inheritdoc cref="Evaluate(ReadOnlySpan{float}, ReadOnlySpan{int}, RelabelledPlan, double)"/>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> is <see langword="null"/>.</exception>
    public static RebalanceDecision Evaluate(float[,] weight, ReadOnlySpan<int> placementInForce, RelabelledPlan candidate, double minimumGain)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return Evaluate(MatrixMarshal.AsSpan(weight), placementInForce, candidate, minimumGain);
    }
}
