using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>Budgeted migration: never more copies than the budget, never worse than the placement in force, locality kept.</summary>
public class BudgetedRebalanceTests
{
    [Fact]
    public void RebalanceExperts_RandomCases_KeepsBudgetLocalityAndNeverWorsens()
    {
        var random = new Random(77);
        int improved = 0;
        for (int i = 0; i < 400; i++)
        {
            RandomCase c = RandomCases.Next(random);
            int layers = c.Weights.GetLength(0), experts = c.Weights.GetLength(1);
            RebalancePlan inForcePlan = ExpertLoadBalancer.RebalanceExperts(c.Weights, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus);
            int[] inForce = PlanAssertions.ToArray(inForcePlan.PhysicalToLogical);
            float[,] next = RandomCases.Loads(random, layers, experts);
            int budget = random.Next(0, 12);

            RelabelledPlan budgeted = BudgetedRebalance.RebalanceExperts(next, inForce, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus, budget);

            PropertyTests.AssertInvariants(budgeted.Plan, c with { Weights = next });
            PlacementDiagnostics before = PlacementDiagnostics.Analyze(next, inForcePlan), after = PlacementDiagnostics.Analyze(next, budgeted.Plan);
            int total = 0;
            for (int l = 0; l < layers; l++)
            {
                int copies = LayerCopies(inForce, budgeted.Plan, l);
                copies.Should().BeLessThanOrEqualTo(budget, "layer {0} of {1}", l, c);
                total += copies;
                after.Layers[l].MaxGpuLoad.Should().BeLessThanOrEqualTo(before.Layers[l].MaxGpuLoad * (1 + 1e-12), "layer {0} of {1}", l, c);
                improved += after.Layers[l].MaxGpuLoad < before.Layers[l].MaxGpuLoad ? 1 : 0;
                if (budgeted.Plan.Policy == RebalancePolicy.Hierarchical)
                {
                    AssertExpertsStayOnTheirNodes(inForce, budgeted.Plan, l);
                }
            }

            budgeted.Migration.Copies.Should().Be(total);
            budgeted.Migration.Moves.Should().HaveCount(total);
            PlanMigration.Between(inForce, budgeted.Plan).Copies.Should().Be(total);
        }

        improved.Should().BeGreaterThan(100, "the search finds better plans on new loads");
    }

    [Fact]
    public void RebalanceExperts_ZeroBudget_CopiesNothing()
    {
        float[][,] series = ExpertLoadGenerator.GenerateSeries(2, 6, 64, 2, 8);
        RebalancePlan inForce = ExpertLoadBalancer.RebalanceExperts(series[0], 80, 8, 2, 16);

        RelabelledPlan budgeted = BudgetedRebalance.RebalanceExperts(series[1], PlanAssertions.ToArray(inForce.PhysicalToLogical), 80, 8, 2, 16, 0);

        budgeted.Migration.Copies.Should().Be(0);
        PlacementDiagnostics.Analyze(series[1], budgeted.Plan).Balancedness.Should().BeGreaterThanOrEqualTo(PlacementDiagnostics.Analyze(series[1], inForce).Balancedness);
    }

    [Fact]
    public void RebalanceExperts_DriftingSeries_BudgetBuysBalanceAtAFractionOfFreshCopies()
    {
        float[][,] series = ExpertLoadGenerator.GenerateSeries(6, 58, 256, 3, 8, drift: 0.1);
        int[] inForce = PlanAssertions.ToArray(ExpertLoadBalancer.RebalanceExperts(series[0], 288, 8, 4, 32).PhysicalToLogical);
        double stale = 0, budgeted = 0, fresh = 0;
        int budgetedCopies = 0, freshCopies = 0;
        for (int t = 1; t < 6; t++)
        {
            RebalancePlan freshPlan = ExpertLoadBalancer.RebalanceExperts(series[t], 288, 8, 4, 32);
            RelabelledPlan next = BudgetedRebalance.RebalanceExperts(series[t], inForce, 288, 8, 4, 32, 64);
            stale += PlacementDiagnostics.Analyze(MatrixMarshal.AsSpan(series[t]), 58, inForce, 32, 4).Balancedness;
            budgeted += PlacementDiagnostics.Analyze(series[t], next.Plan).Balancedness;
            fresh += PlacementDiagnostics.Analyze(series[t], freshPlan).Balancedness;
            budgetedCopies += next.Migration.Copies;
            freshCopies += PlanMigration.Between(inForce, freshPlan).Copies;
            inForce = PlanAssertions.ToArray(next.Plan.PhysicalToLogical);
        }

        budgeted.Should().BeGreaterThan(stale);
        budgeted.Should().BeGreaterThanOrEqualTo(fresh * 0.995, "mild drift: within 0.5% of fresh plans");
        budgetedCopies.Should().BeLessThanOrEqualTo(freshCopies / 4);
    }

    [Fact]
    public void RebalanceExperts_BadArguments_ThrowNamingTheParameter()
    {
        float[,] w = { { 1, 2, 3, 4 } };
        int[] placement = [0, 1, 2, 3, 0, 1, 2, 3];

        ((Action)(() => BudgetedRebalance.RebalanceExperts(w, placement, 8, 1, 1, 2, -1))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxCopiesPerLayer");
        ((Action)(() => BudgetedRebalance.RebalanceExperts(w, placement.AsSpan(0, 7), 8, 1, 1, 2, 4))).Should().Throw<ArgumentException>().WithParameterName("placementInForce").WithMessage("*8 entries*");
        ((Action)(() => BudgetedRebalance.RebalanceExperts(w, [0, 1, 2, 3, -1, -1, 2, 3], 8, 1, 1, 2, 4))).Should().Throw<ArgumentException>().WithParameterName("placementInForce").WithMessage("*expert -1*");
        ((Action)(() => BudgetedRebalance.RebalanceExperts(w, [0, 1, 2, 2, 0, 1, 2, 2], 8, 1, 1, 2, 4))).Should().Throw<ArgumentException>().WithParameterName("placementInForce").WithMessage("*no replica of expert 3*");
        ((Action)(() => BudgetedRebalance.RebalanceExperts(new float[,] { { 1, float.NaN, 3, 4 } }, placement, 8, 1, 1, 2, 4))).Should().Throw<ArgumentException>().WithParameterName("weight");
        ((Action)(() => BudgetedRebalance.RebalanceExperts(w, placement, 8, 1, 1, 3, 4))).Should().Throw<ArgumentException>().WithParameterName("numReplicas");
    }

    private static int LayerCopies(int[] inForce, RebalancePlan plan, int layer)
    {
        int slots = plan.NumPhysicalExperts, perGpu = slots / plan.NumGpus, copies = 0;
        ReadOnlySpan<int> before = inForce.AsSpan(layer * slots, slots), after = plan.GetPhysicalToLogical(layer);
        for (int g = 0; g < plan.NumGpus; g++)
        {
            var had = before.Slice(g * perGpu, perGpu).ToArray().ToHashSet();
            copies += after.Slice(g * perGpu, perGpu).ToArray().Distinct().Count(e => !had.Contains(e));
        }

        return copies;
    }

    private static void AssertExpertsStayOnTheirNodes(int[] inForce, RebalancePlan plan, int layer)
    {
        int slots = plan.NumPhysicalExperts, perNode = slots / plan.NumNodes;
        ReadOnlySpan<int> before = inForce.AsSpan(layer * slots, slots), after = plan.GetPhysicalToLogical(layer);
        for (int s = 0; s < slots; s++)
        {
            int node = s / perNode;
            before.Slice(node * perNode, perNode).Contains(after[s]).Should().BeTrue("expert {0} stays on the nodes that held it", after[s]);
        }
    }
}
