using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>The rebalance decision: gain, copies and verdict.</summary>
public class RebalanceDecisionTests
{
    [Fact]
    public void Evaluate_DriftedLoads_ReportsGainCopiesAndVerdict()
    {
        float[][,] series = ExpertLoadGenerator.GenerateSeries(2, 8, 64, seed: 2, numGroups: 8, groupCorrelation: true);
        RebalancePlan inForce = ExpertLoadBalancer.RebalanceExperts(series[0], 80, 8, 2, 16);
        int[] old = PlanAssertions.ToArray(inForce.PhysicalToLogical);
        RelabelledPlan candidate = PlanRelabelling.Relabel(ExpertLoadBalancer.RebalanceExperts(series[1], 80, 8, 2, 16), old);

        RebalanceDecision decision = RebalanceDecision.Evaluate(series[1], old, candidate, minimumGain: 0);

        decision.BalancednessNow.Should().Be(PlacementDiagnostics.Analyze(series[1], inForce).Balancedness);
        decision.BalancednessAfter.Should().Be(PlacementDiagnostics.Analyze(series[1], candidate.Plan).Balancedness);
        decision.Gain.Should().BeGreaterThan(0, "a plan for the new loads balances them better than the old one");
        decision.Copies.Should().Be(candidate.Migration.Copies);
        decision.ShouldRebalance.Should().BeTrue();
        RebalanceDecision.Evaluate(series[1], old, candidate, minimumGain: decision.Gain + 1e-9).ShouldRebalance.Should().BeFalse();
        RebalanceDecision.Evaluate(series[1], old, candidate, minimumGain: decision.Gain).ShouldRebalance.Should().BeTrue();
    }

    [Fact]
    public void Evaluate_SamePlan_GainsNothingAndSaysNo()
    {
        float[,] weight = ExpertLoadGenerator.Generate(4, 64, seed: 1);
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(weight, 80, 8, 2, 16);
        int[] phy2log = PlanAssertions.ToArray(plan.PhysicalToLogical);

        RebalanceDecision decision = RebalanceDecision.Evaluate(weight, phy2log, PlanRelabelling.Relabel(plan, phy2log), minimumGain: 0);

        decision.Gain.Should().Be(0);
        decision.Copies.Should().Be(0);
        decision.ShouldRebalance.Should().BeFalse();
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Evaluate_BadThreshold_ThrowsOutOfRange(double minimumGain)
    {
        float[,] weight = ExpertLoadGenerator.Generate(1, 8, seed: 1);
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(weight, 8, 1, 1, 2);
        int[] phy2log = PlanAssertions.ToArray(plan.PhysicalToLogical);

        FluentActions.Invoking(() => RebalanceDecision.Evaluate(weight, phy2log, PlanRelabelling.Relabel(plan, phy2log), minimumGain))
            .Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "minimumGain");
    }
}
