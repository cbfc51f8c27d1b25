using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>The refined algorithm: never worse than the reference per layer, no wasted duplicates, better balance.</summary>
public class RefinedAlgorithmTests
{
    private static readonly RebalanceOptions Refined = new() { Algorithm = RebalanceAlgorithm.Refined };

    [Fact]
    public void RebalanceExperts_FlashLbExample_RefinedBusiestGpuAtMost205()
    {
        var weight = new float[,] { { 600, 560, 120, 120, 20, 10, 10, 10 } };

        RebalancePlan reference = ExpertLoadBalancer.RebalanceExperts(weight, 16, 1, 1, 8);
        RebalancePlan refined = ExpertLoadBalancer.RebalanceExperts(weight, 16, 1, 1, 8, Refined);

        PlacementDiagnostics.Analyze(weight, reference).Layers[0].MaxGpuLoad.Should().Be(232);
        LayerDiagnostics layer = PlacementDiagnostics.Analyze(weight, refined).Layers[0];
        layer.MaxGpuLoad.Should().BeLessThanOrEqualTo(205);
        layer.MaxGpuLoad.Should().BeApproximately(1450 / 8.0 + 15.416, 0.01, "the even-split optimum, 196.67, is reached");
        layer.Duplicates.Should().Be(0);
    }

    [Fact]
    public void RebalanceExperts_RandomCases_RefinedNeverBusierThanReferenceAndKeepsInvariants()
    {
        var random = new Random(12);
        int layersChecked = 0, referenceDuplicates = 0, refinedDuplicates = 0;
        for (int i = 0; i < 3000; i++)
        {
            RandomCase c = RandomCases.Next(random);
            RebalancePlan reference = ExpertLoadBalancer.RebalanceExperts(c.Weights, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus);
            RebalancePlan refined = ExpertLoadBalancer.RebalanceExperts(c.Weights, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus, Refined);

            PropertyTests.AssertInvariants(refined, c);
            PlacementDiagnostics before = PlacementDiagnostics.Analyze(c.Weights, reference), after = PlacementDiagnostics.Analyze(c.Weights, refined);
            for (int l = 0; l < reference.NumLayers; l++)
            {
                after.Layers[l].MaxGpuLoad.Should().BeLessThanOrEqualTo(before.Layers[l].MaxGpuLoad, "layer {0} of {1}", l, c);
                referenceDuplicates += before.Layers[l].Duplicates;
                after.Layers[l].Duplicates.Should().BeLessThanOrEqualTo(before.Layers[l].Duplicates, "layer {0} of {1}", l, c);
                refinedDuplicates += after.Layers[l].Duplicates;
                layersChecked++;
            }
        }

        // A duplicate stays only where removing it would load the busiest GPU more: with few experts for many slots
        // (these cases are full of them) a second replica beside the first can beat any other use of the slot.
        layersChecked.Should().BeGreaterThan(5000);
        refinedDuplicates.Should().BeLessThan(referenceDuplicates / 2);
    }

    [Theory]
    [InlineData(288, 8, 4, 32, false)]
    [InlineData(288, 8, 4, 32, true)]
    [InlineData(320, 8, 8, 64, false)]
    [InlineData(320, 8, 40, 320, false)]
    public void RebalanceExperts_DeepSeekV3Loads_RefinedRemovesHalfTheExcessWithoutDuplicates(int replicas, int groups, int nodes, int gpus, bool correlated)
    {
        float[,] weight = ExpertLoadGenerator.Generate(58, 256, 5, groups, correlated);

        RebalancePlan reference = ExpertLoadBalancer.RebalanceExperts(weight, replicas, groups, nodes, gpus);
        RebalancePlan refined = ExpertLoadBalancer.RebalanceExperts(weight, replicas, groups, nodes, gpus, Refined);

        PlacementDiagnostics before = PlacementDiagnostics.Analyze(weight, reference), after = PlacementDiagnostics.Analyze(weight, refined);
        double referenceExcess = 0, refinedExcess = 0;
        var row = new float[256];
        for (int l = 0; l < 58; l++)
        {
            for (int e = 0; e < 256; e++)
            {
                row[e] = weight[l, e];
            }

            double bound = reference.Policy == RebalancePolicy.Hierarchical
                ? LoadBounds.HierarchicalLowerBound(row, replicas, groups, nodes, gpus)
                : LoadBounds.LowerBound(row, replicas, gpus);
            after.Layers[l].MaxGpuLoad.Should().BeGreaterThanOrEqualTo(bound * (1 - 1e-9), "no plan beats the bound");
            referenceExcess += (before.Layers[l].MaxGpuLoad / bound) - 1;
            refinedExcess += (after.Layers[l].MaxGpuLoad / bound) - 1;
            after.Layers[l].Duplicates.Should().Be(0);
        }

        refinedExcess.Should().BeLessThanOrEqualTo(referenceExcess / 2);
    }

    [Fact]
    public void RebalanceExperts_Refined_SameOnEveryThreadCountAndInTryOverloads()
    {
        float[,] weight = ExpertLoadGenerator.Generate(12, 64, 8, 4, groupCorrelation: true);
        RebalancePlan one = ExpertLoadBalancer.RebalanceExperts(weight, 80, 4, 2, 16, Refined);
        RebalancePlan many = ExpertLoadBalancer.RebalanceExperts(weight, 80, 4, 2, 16, new RebalanceOptions { Algorithm = RebalanceAlgorithm.Refined, MaxDegreeOfParallelism = -1 });
        var phy2log = new int[12 * 80];
        var log2phy = new int[12 * 64 * 17];
        var logcnt = new int[12 * 64];
        bool ok = ExpertLoadBalancer.TryRebalanceExperts(MatrixMarshal.AsSpan(weight), 12, 80, 4, 2, 16, phy2log, log2phy, logcnt, out int width, Refined);

        ok.Should().BeTrue();
        PlanAssertions.ToArray(many.PhysicalToLogical).Should().Equal(PlanAssertions.ToArray(one.PhysicalToLogical));
        phy2log.Should().Equal(PlanAssertions.ToArray(one.PhysicalToLogical));
        logcnt.Should().Equal(PlanAssertions.ToArray(one.LogicalReplicaCount));
        width.Should().Be(one.MaxReplicaCount);
    }

    [Fact]
    public void RebalanceExperts_RefinedHierarchical_PicksTheBestGroupAssignment()
    {
        // Two hot groups must not share a node: the reference's greedy by group total may pair them.
        var weight = new float[1, 8];
        float[] loads = [100, 100, 1, 1, 60, 60, 45, 45];
        for (int e = 0; e < 8; e++)
        {
            weight[0, e] = loads[e];
        }

        RebalancePlan refined = ExpertLoadBalancer.RebalanceExperts(weight, 8, 4, 2, 4, Refined);
        double bound = LoadBounds.HierarchicalLowerBound(loads, 8, 4, 2, 4);

        PlacementDiagnostics.Analyze(weight, refined).Layers[0].MaxGpuLoad.Should().Be(bound);
    }

    [Fact]
    public void ReadmeSnippet_RunsAsWritten()
    {
        float[][,] series = ExpertLoadGenerator.GenerateSeries(2, 58, 256, 7, 8, drift: 0.1);
        float[,] weight = series[1];
        int[] inForce = PlanAssertions.ToArray(ExpertLoadBalancer.RebalanceExperts(series[0], 288, 8, 4, 32).PhysicalToLogical);
        float[] layerLoads = [.. Enumerable.Range(0, 256).Select(e => weight[0, e])];

        // The README's lines:
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(weight, 288, 8, 4, 32,
            new RebalanceOptions { Algorithm = RebalanceAlgorithm.Refined });
        double locality = LoadBounds.HierarchicalLowerBound(layerLoads, 288, 8, 4, 32) / LoadBounds.LowerBound(layerLoads, 288, 32);
        RelabelledPlan next = BudgetedRebalance.RebalanceExperts(weight, inForce, 288, 8, 4, 32, maxCopiesPerLayer: 64);

        plan.Policy.Should().Be(RebalancePolicy.Hierarchical);
        PlacementDiagnostics.Analyze(weight, plan).Balancedness.Should().BeGreaterThan(PlacementDiagnostics.Analyze(weight, ExpertLoadBalancer.RebalanceExperts(weight, 288, 8, 4, 32)).Balancedness);
        locality.Should().BeGreaterThanOrEqualTo(1.0);
        next.Migration.Copies.Should().BeInRange(1, 64 * 58);
    }

    [Fact]
    public void RebalanceExperts_RefinedWithUnavailableGpus_NeverUsesThemNorDoesWorse()
    {
        float[,] weight = ExpertLoadGenerator.Generate(6, 64, 4);
        int[] down = [3, 9];
        RebalancePlan reference = ExpertLoadBalancer.RebalanceExperts(weight, 96, 4, 2, 16, new RebalanceOptions { UnavailableGpus = down });
        RebalancePlan refined = ExpertLoadBalancer.RebalanceExperts(weight, 96, 4, 2, 16, new RebalanceOptions { UnavailableGpus = down, Algorithm = RebalanceAlgorithm.Refined });

        PlacementDiagnostics before = PlacementDiagnostics.Analyze(weight, reference), after = PlacementDiagnostics.Analyze(weight, refined);
        for (int l = 0; l < 6; l++)
        {
            ReadOnlySpan<int> row = refined.GetPhysicalToLogical(l);
            foreach (int gpu in down)
            {
                row.Slice(gpu * 6, 6).ToArray().Should().OnlyContain(e => e == -1);
            }

            after.Layers[l].MaxGpuLoad.Should().BeLessThanOrEqualTo(before.Layers[l].MaxGpuLoad);
        }
    }

    // A plan is a function of its inputs and options only: CI runs this again with AVX-512 off, AVX2 off and 256-bit
    // vectors preferred, and the refined plans for these loads must come out the same, element for element. The
    // fingerprint (FNV-1a over every phy2log) was taken when the algorithm last changed; changing the algorithm on
    // purpose updates it.
    [Fact]
    public void RebalanceExperts_Refined_SameFingerprintOnEveryInstructionSet()
    {
        float[,] weight = ExpertLoadGenerator.Generate(8, 256, 21, 8, groupCorrelation: true);
        ulong fingerprint = 14695981039346656037;
        foreach ((int replicas, int nodes, int gpus) in new[] { (288, 4, 32), (320, 8, 64), (288, 18, 144), (96 * 3, 1, 96) })
        {
            RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(weight, replicas, 8, nodes, gpus, Refined);
            foreach (int e in PlanAssertions.ToArray(plan.PhysicalToLogical))
            {
                fingerprint = (fingerprint ^ (uint)e) * 1099511628211;
            }
        }

        fingerprint.Should().Be(ExpectedFingerprint);
    }

    private const ulong ExpectedFingerprint = 18164569252984402564;

    [Fact]
    public void RebalanceExperts_SixteenGroupsOnFourNodes_LocalSearchKeepsGroupsWholeAndNeverDoesWorse()
    {
        // 16 groups on 4 nodes have 2,627,625 assignments: beyond the exhaustive limit, so the local search assigns them.
        GroupAssignment.AssignmentCount(16, 4).Should().BeGreaterThan(GroupAssignment.MaxExhaustive);
        var random = new Random(5);
        for (int i = 0; i < 20; i++)
        {
            var c = new RandomCase(RandomCases.Loads(random, 2, 64), 96, 16, 4, 16);
            RebalancePlan reference = ExpertLoadBalancer.RebalanceExperts(c.Weights, 96, 16, 4, 16);
            RebalancePlan refined = ExpertLoadBalancer.RebalanceExperts(c.Weights, 96, 16, 4, 16, Refined);

            PropertyTests.AssertInvariants(refined, c);
            PlacementDiagnostics before = PlacementDiagnostics.Analyze(c.Weights, reference), after = PlacementDiagnostics.Analyze(c.Weights, refined);
            for (int l = 0; l < 2; l++)
            {
                after.Layers[l].MaxGpuLoad.Should().BeLessThanOrEqualTo(before.Layers[l].MaxGpuLoad);
                float[] row = [.. Enumerable.Range(0, 64).Select(e => c.Weights[l, e])];
                LoadBounds.HierarchicalLowerBound(row, 96, 16, 4, 16).Should().BeGreaterThanOrEqualTo(LoadBounds.LowerBound(row, 96, 16) * (1 - 1e-12));
            }
        }
    }

    [Theory]
    [InlineData(4, 65536, 1, 1, 4096)]       // four experts for 65,536 slots: counts far beyond the GPUs, duplicates everywhere
    [InlineData(64, 1 << 20, 1, 1, 65536)]   // 16,384 replicas per expert: hand-overs would touch long lists
    [InlineData(2048, 4096, 2048, 2, 2)]     // 2,048 groups: the local search of groups to nodes, within its work bound
    public void RebalanceExperts_RefinedAtExtremeShapes_StaysBoundedAndNeverWorse(int experts, int replicas, int groups, int nodes, int gpus)
    {
        var random = new Random(experts);
        var weight = new float[1, experts];
        for (int e = 0; e < experts; e++)
        {
            weight[0, e] = random.Next(0, 1000);
        }

        RebalancePlan reference = ExpertLoadBalancer.RebalanceExperts(weight, replicas, groups, nodes, gpus);
        RebalancePlan refined = ExpertLoadBalancer.RebalanceExperts(weight, replicas, groups, nodes, gpus, Refined);

        PropertyTests.AssertInvariants(refined, new RandomCase(weight, replicas, groups, nodes, gpus));
        PlacementDiagnostics.Analyze(weight, refined).Layers[0].MaxGpuLoad.Should().BeLessThanOrEqualTo(PlacementDiagnostics.Analyze(weight, reference).Layers[0].MaxGpuLoad);
    }

    [Fact]
    public void Algorithm_Undefined_Throws()
    {
        Action act = () => _ = new RebalanceOptions { Algorithm = (RebalanceAlgorithm)7 };

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Algorithm").WithMessage("*Reference or Refined*");
    }
}
