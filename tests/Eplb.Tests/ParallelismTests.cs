using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>Spreading layers over threads never changes a plan.</summary>
public class ParallelismTests
{
    public static TheoryData<string> Cases => GoldenCases.Names();

    [Theory]
    [MemberData(nameof(Cases))]
    public void RebalanceExperts_AllCores_MatchesReference(string name)
    {
        GoldenCase c = GoldenCases.Get(name);
        var options = new RebalanceOptions { MaxDegreeOfParallelism = -1, TieOrder = c.TieOrder };
        ExpertLoadBalancer.RebalanceExperts(c.Weights, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus, options).ShouldMatch(c);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(16)]
    public void TryRebalanceExperts_SeveralThreads_EqualsOneThread(int threads)
    {
        float[,] w = ExpertLoadGenerator.Generate(61, 256, seed: threads);
        RebalancePlan expected = ExpertLoadBalancer.RebalanceExperts(w, 288, 8, 4, 32);
        var phy2log = new int[61 * 288];
        var log2phy = new int[61 * 256 * 33];
        var logcnt = new int[61 * 256];

        bool ok = ExpertLoadBalancer.TryRebalanceExperts(GoldenCase.Flatten<float>(w), 61, 288, 8, 4, 32, phy2log, log2phy, logcnt, out int max,
            new RebalanceOptions { MaxDegreeOfParallelism = threads });

        ok.Should().BeTrue();
        max.Should().Be(expected.MaxReplicaCount);
        phy2log.Should().Equal(PlanAssertions.ToArray(expected.PhysicalToLogical));
        logcnt.Should().Equal(PlanAssertions.ToArray(expected.LogicalReplicaCount));
        log2phy.AsSpan(0, 61 * 256 * max).ToArray().Should().Equal(PlanAssertions.ToArray(expected.LogicalToPhysical));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void RebalanceOptions_InvalidDegree_ThrowsOutOfRange(int degree) =>
        FluentActions.Invoking(() => new RebalanceOptions { MaxDegreeOfParallelism = degree })
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("MaxDegreeOfParallelism");
}
