using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>Rebalancing around GPUs out of service.</summary>
public class UnavailableGpuTests
{
    [Fact]
    public void RebalanceExperts_RandomUnavailableGpus_NeverUsesThemAndEqualsTheGlobalPlanOverTheRest()
    {
        var random = new Random(31);
        for (int i = 0; i < 200; i++)
        {
            int gpus = random.Next(2, 17), perGpu = random.Next(1, 5), nodes = random.Next(1, 3) is 2 && gpus % 2 == 0 ? 2 : 1;
            int down = random.Next(1, gpus);
            int[] unavailable = [.. Enumerable.Range(0, gpus).OrderBy(_ => random.Next()).Take(down)];
            int healthy = gpus - down, experts = random.Next(1, (healthy * perGpu) + 1);
            float[,] weight = RandomCases.Loads(random, 2, experts);
            var options = new RebalanceOptions { UnavailableGpus = unavailable };

            int groups = experts % nodes == 0 ? nodes : 1; // hierarchical when it can be: unavailable GPUs make it global
            RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(weight, gpus * perGpu, groups, nodes, gpus, options);
            RebalancePlan reference = ExpertLoadBalancer.RebalanceExperts(weight, healthy * perGpu, 1, 1, healthy);

            plan.Policy.Should().Be(RebalancePolicy.Global);
            int[] healthyGpus = [.. Enumerable.Range(0, gpus).Except(unavailable).Order()];
            for (int l = 0; l < 2; l++)
            {
                ReadOnlySpan<int> row = plan.GetPhysicalToLogical(l);
                foreach (int gpu in unavailable)
                {
                    row.Slice(gpu * perGpu, perGpu).ToArray().Should().OnlyContain(e => e == -1, $"GPU {gpu} is unavailable");
                }

                for (int k = 0; k < healthy; k++)
                {
                    row.Slice(healthyGpus[k] * perGpu, perGpu).ToArray().Should().Equal(reference.GetPhysicalToLogical(l).Slice(k * perGpu, perGpu).ToArray());
                }

                plan.GetLogicalReplicaCount(l).ToArray().Should().Equal(reference.GetLogicalReplicaCount(l).ToArray());
                for (int e = 0; e < experts; e++)
                {
                    ReadOnlySpan<int> slots = plan.GetLogicalToPhysical(l, e);
                    slots.Length.Should().BeGreaterThan(0, "every expert keeps a replica");
                    foreach (int slot in slots)
                    {
                        row[slot].Should().Be(e);
                        unavailable.Should().NotContain(slot / perGpu);
                    }
                }
            }
        }
    }

    [Fact]
    public void TryRebalanceExperts_UnavailableGpus_WritesWhatTheAllocatingOverloadReturns()
    {
        float[,] weight = ExpertLoadGenerator.Generate(3, 32, seed: 4);
        var options = new RebalanceOptions { UnavailableGpus = [5, 2] };
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(weight, 48, 4, 2, 8, options);
        var p2l = new int[3 * 48];
        var l2p = new int[3 * 32 * 17];
        var cnt = new int[3 * 32];

        ExpertLoadBalancer.TryRebalanceExperts(MatrixMarshal.AsSpan(weight), 3, 48, 4, 2, 8, p2l, l2p, cnt, out int max, options).Should().BeTrue();

        p2l.Should().Equal(PlanAssertions.ToArray(plan.PhysicalToLogical));
        l2p.AsSpan(0, 3 * 32 * max).ToArray().Should().Equal(PlanAssertions.ToArray(plan.LogicalToPhysical));
        cnt.Should().Equal(PlanAssertions.ToArray(plan.LogicalReplicaCount));
    }

    [Theory]
    [InlineData(new[] { 8 }, "GPU 8, but GPUs run from 0 to 7")]
    [InlineData(new[] { 1, 1 }, "GPU 1 twice")]
    [InlineData(new[] { 0, 1, 2, 3, 4, 5 }, "leaves 2 GPUs with 8 slots per layer, fewer than the 10 logical experts")]
    public void RebalanceExperts_ImpossibleUnavailableGpus_ThrowsNamingOptions(int[] unavailable, string words)
    {
        var options = new RebalanceOptions { UnavailableGpus = unavailable };

        FluentActions.Invoking(() => ExpertLoadBalancer.RebalanceExperts(new float[1, 10], 32, 1, 1, 8, options))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "options" && e.Message.Contains(words));
    }

    [Fact]
    public void UnavailableGpus_NegativeId_ThrowsOutOfRange()
    {
        FluentActions.Invoking(() => new RebalanceOptions { UnavailableGpus = [3, -1] })
            .Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "UnavailableGpus");
        FluentActions.Invoking(() => new RebalanceOptions { UnavailableGpus = null! }).Should().Throw<ArgumentNullException>();
    }

    [Theory]
    [InlineData(96, 16, 64)] // 6 slots per GPU
    [InlineData(64, 64, 48)] // one slot per GPU
    public void Relabel_UnavailableGpus_StayEmptyAndTheRestMoveLess(int replicas, int gpus, int experts)
    {
        float[][,] series = ExpertLoadGenerator.GenerateSeries(2, 4, experts, seed: 8, numGroups: 8, groupCorrelation: true);
        RebalancePlan inForce = ExpertLoadBalancer.RebalanceExperts(series[0], replicas, 8, 2, gpus);
        var options = new RebalanceOptions { UnavailableGpus = [3, 12] };
        RebalancePlan fresh = ExpertLoadBalancer.RebalanceExperts(series[1], replicas, 8, 2, gpus, options);
        int[] old = PlanAssertions.ToArray(inForce.PhysicalToLogical);
        int perGpu = replicas / gpus;

        RelabelledPlan relabelled = PlanRelabelling.Relabel(fresh, old);

        for (int l = 0; l < 4; l++)
        {
            relabelled.Plan.GetPhysicalToLogical(l).Slice(3 * perGpu, perGpu).ToArray().Should().OnlyContain(e => e == -1);
            relabelled.Plan.GetPhysicalToLogical(l).Slice(12 * perGpu, perGpu).ToArray().Should().OnlyContain(e => e == -1);
        }

        relabelled.Migration.Copies.Should().Be(PlanMigration.Between(old, relabelled.Plan).Copies);
        relabelled.Migration.Copies.Should().BeLessThan(relabelled.Migration.FreshCopies);
        relabelled.Migration.Moves.Should().OnlyContain(m => m.Gpu != 3 && m.Gpu != 12);
        PlacementDiagnostics.Analyze(series[1], relabelled.Plan).Balancedness
            .Should().Be(PlacementDiagnostics.Analyze(series[1], fresh).Balancedness, "relabelling keeps every GPU's load");
    }
}
