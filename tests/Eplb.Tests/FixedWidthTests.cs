using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>log2phy at a caller-chosen width, and the sizes a failed call reports.</summary>
public class FixedWidthTests
{
    private static readonly float[,] s_weight = ExpertLoadGenerator.Generate(3, 32, seed: 6);

    [Theory]
    [InlineData(17)] // the redundant slots plus one, as vLLM sizes it
    [InlineData(9)]
    public void TryRebalanceExperts_WideEnough_WritesTheDensePlanPadded(int width)
    {
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(s_weight, 48, 4, 2, 8);
        width.Should().BeGreaterThanOrEqualTo(plan.MaxReplicaCount);
        var p2l = new int[3 * 48];
        int[] l2p = [.. Enumerable.Repeat(12345, 3 * 32 * width)];
        var cnt = new int[3 * 32];

        ExpertLoadBalancer.TryRebalanceExperts(MatrixMarshal.AsSpan(s_weight), 3, 48, 4, 2, 8, p2l, l2p, width, cnt, out int max).Should().BeTrue();

        max.Should().Be(plan.MaxReplicaCount);
        p2l.Should().Equal(PlanAssertions.ToArray(plan.PhysicalToLogical));
        for (int l = 0; l < 3; l++)
        {
            for (int e = 0; e < 32; e++)
            {
                int[] row = l2p[(((l * 32) + e) * width)..(((l * 32) + e + 1) * width)];
                int count = plan.GetLogicalReplicaCount(l)[e];
                row[..count].Should().Equal(plan.GetLogicalToPhysical(l, e).ToArray());
                row[count..].Should().OnlyContain(slot => slot == -1);
            }
        }
    }

    [Fact]
    public void TryRebalanceExperts_TooNarrow_WritesNothingAndReportsTheWidthNeeded()
    {
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(s_weight, 48, 4, 2, 8);
        int width = plan.MaxReplicaCount - 1;
        int[] p2l = new int[3 * 48], l2p = new int[3 * 32 * 17], cnt = new int[3 * 32];

        ExpertLoadBalancer.TryRebalanceExperts(MatrixMarshal.AsSpan(s_weight), 3, 48, 4, 2, 8, p2l, l2p, width, cnt, out int max).Should().BeFalse();

        max.Should().Be(plan.MaxReplicaCount);
        p2l.Should().OnlyContain(x => x == 0);
        l2p.Should().OnlyContain(x => x == 0);
        cnt.Should().OnlyContain(x => x == 0);
    }

    [Fact]
    public void TryRebalanceExperts_DestinationTooShort_ReportsTheWidthNeeded()
    {
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(s_weight, 48, 4, 2, 8);

        ExpertLoadBalancer.TryRebalanceExperts(MatrixMarshal.AsSpan(s_weight), 3, 48, 4, 2, 8, new int[10], new int[3 * 32 * 17], new int[3 * 32], out int max)
            .Should().BeFalse();
        max.Should().Be(plan.MaxReplicaCount, "a caller learns the log2phy size a call needs from a failed call");
        ExpertLoadBalancer.TryRebalanceExperts(MatrixMarshal.AsSpan(s_weight), 3, 48, 4, 2, 8, new int[3 * 48], new int[3], new int[3 * 32], out max)
            .Should().BeFalse();
        max.Should().Be(plan.MaxReplicaCount);
        ExpertLoadBalancer.TryRebalanceExperts(MatrixMarshal.AsSpan(s_weight), 3, 48, 4, 2, 8, new int[3 * 48], new int[(3 * 32 * 17) - 1], 17, new int[3 * 32], out max)
            .Should().BeFalse();
    }

    [Fact]
    public void TryRebalanceExperts_WidthNotPositive_ThrowsOutOfRange()
    {
        FluentActions.Invoking(() => ExpertLoadBalancer.TryRebalanceExperts(MatrixMarshal.AsSpan(s_weight), 3, 48, 4, 2, 8, new int[3 * 48], new int[3 * 32 * 17], 0, new int[3 * 32], out _))
            .Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "logicalToPhysicalWidth");
    }
}
