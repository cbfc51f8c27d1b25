using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>Diagnostics on placements worked out by hand.</summary>
public class PlacementDiagnosticsTests
{
    [Fact]
    public void Analyze_HandComputedPlacement_GivesEveryFigure()
    {
        // Three GPUs of two slots: [0, 1 | 0, 2 | 3, 3]; loads 8, 4, 2, 2. Experts 0 and 3 have two replicas each.
        // GPU loads: 8/2 + 4 = 8, 8/2 + 2 = 6, 2/2 + 2/2 = 2; mean 16/3; LB = max(16/3, m*) with m* = 4 (six slots:
        // 8 → 4 + 4, then 4 is the largest share left); GPU 2 holds expert 3 twice: one duplicate.
        PlacementDiagnostics diagnostics = PlacementDiagnostics.Analyze([8f, 4f, 2f, 2f], 1, [0, 1, 0, 2, 3, 3], numGpus: 3, numNodes: 3);

        LayerDiagnostics layer = diagnostics.Layers.Should().ContainSingle().Subject;
        layer.GpuLoads.ToArray().Should().Equal(8, 6, 2);
        layer.NodeLoads.ToArray().Should().Equal(8, 6, 2);
        layer.ReplicaCounts.ToArray().Should().Equal(2, 1, 1, 2);
        layer.MaxGpuLoad.Should().Be(8);
        layer.MeanGpuLoad.Should().BeApproximately(16.0 / 3, 1e-12);
        layer.Balancedness.Should().BeApproximately(2.0 / 3, 1e-12);
        layer.LowerBound.Should().BeApproximately(16.0 / 3, 1e-12);
        layer.MaxOverLowerBound.Should().BeApproximately(1.5, 1e-12);
        layer.Duplicates.Should().Be(1);
        layer.AvailableGpus.Should().Be(3);
        diagnostics.Balancedness.Should().BeApproximately(2.0 / 3, 1e-12);
    }

    [Fact]
    public void Analyze_OneHotExpert_BoundIsItsShare()
    {
        // Two GPUs of two slots, loads 90, 5, 5: m* = 45 (the hot expert's two replicas) beats the mean, 50.
        PlacementDiagnostics diagnostics = PlacementDiagnostics.Analyze([90f, 5f, 5f], 1, [0, 1, 0, 2], numGpus: 2, numNodes: 1);

        LayerDiagnostics layer = diagnostics.Layers[0];
        layer.GpuLoads.ToArray().Should().Equal(50, 50);
        layer.NodeLoads.ToArray().Should().Equal(100);
        layer.LowerBound.Should().Be(50);
        PlacementDiagnostics.Analyze([90f, 5f, 5f, 0f], 1, [0, 1, 2, 3], numGpus: 2, numNodes: 1).Layers[0].LowerBound.Should().Be(90);
    }

    [Fact]
    public void Analyze_UnavailableGpu_LeavesItOutOfMeanAndBound()
    {
        // GPU 1 is out: [0, 1 | -1, -1 | 2, 3], loads 4, 4, 2, 2 → GPU loads 8, 0, 4; mean over the two in use 6.
        PlacementDiagnostics diagnostics = PlacementDiagnostics.Analyze([4f, 4f, 2f, 2f], 1, [0, 1, -1, -1, 2, 3], numGpus: 3, numNodes: 1);

        LayerDiagnostics layer = diagnostics.Layers[0];
        layer.AvailableGpus.Should().Be(2);
        layer.GpuLoads.ToArray().Should().Equal(8, 0, 4);
        layer.MeanGpuLoad.Should().Be(6);
        layer.Balancedness.Should().Be(0.75);
        layer.LowerBound.Should().Be(6);
    }

    [Fact]
    public void Balancedness_TwoLayers_IsSumOfMeansOverSumOfMaxima()
    {
        // Layer 0: GPU loads 3, 1 (mean 2, max 3); layer 1: 5, 5 (mean 5, max 5): (2 + 5) / (3 + 5).
        PlacementDiagnostics diagnostics = PlacementDiagnostics.Analyze([3f, 1f, 5f, 5f], 2, [0, 1, 0, 1], numGpus: 2, numNodes: 1);

        diagnostics.Balancedness.Should().Be(7.0 / 8);
        diagnostics.Layers.Select(l => l.Balancedness).Should().Equal(2.0 / 3, 1.0);
    }

    [Fact]
    public void Analyze_Plan_AgreesWithItsOwnPhysicalToLogical()
    {
        float[,] weight = Eplb.Workloads.ExpertLoadGenerator.Generate(4, 64, seed: 9);
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(weight, 80, 8, 2, 16);

        PlacementDiagnostics fromPlan = PlacementDiagnostics.Analyze(weight, plan);
        PlacementDiagnostics fromSpan = PlacementDiagnostics.Analyze(MatrixMarshal.AsSpan(weight), 4, PlanAssertions.ToArray(plan.PhysicalToLogical), 16, 2);

        fromPlan.Balancedness.Should().Be(fromSpan.Balancedness);
        fromPlan.Layers.Should().OnlyContain(l => l.MaxOverLowerBound >= 1);
        fromPlan.Layers.Select(l => l.NodeLoads.Length).Should().OnlyContain(n => n == 2);
        for (int l = 0; l < 4; l++)
        {
            fromPlan.Layers[l].ReplicaCounts.ToArray().Should().Equal(plan.GetLogicalReplicaCount(l).ToArray());
            int[] row = plan.GetPhysicalToLogical(l).ToArray();
            int duplicates = Enumerable.Range(0, 16).Sum(g => 5 - row[(g * 5)..((g + 1) * 5)].Distinct().Count());
            fromPlan.Layers[l].Duplicates.Should().Be(duplicates);
        }
    }

    [Theory]
    [InlineData(new[] { 0, 1, 2, 0, 1, 5 }, 3, 1, "physicalToLogical", "expert 5")]
    [InlineData(new[] { 0, 1, 2, 0, 0, 1 }, 3, 1, "physicalToLogical", "no replica of expert 2")]
    [InlineData(new[] { 0, 1, 2, 0, 1, 2 }, 2, 1, "numGpus", "")]
    [InlineData(new[] { 0, 1, 2, 0, 1, 2 }, 3, 2, "numGpus", "")]
    [InlineData(new[] { 0, 1, 2, 0, 1 }, 1, 1, "numLayers", "")]
    public void Analyze_BadPlacement_ThrowsNamingTheRule(int[] placement, int gpus, int nodes, string parameter, string words)
    {
        FluentActions.Invoking(() => PlacementDiagnostics.Analyze([1f, 2f, 3f, 4f, 5f, 6f], 2, placement, gpus, nodes))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == parameter && e.Message.Contains(words));
    }
}
