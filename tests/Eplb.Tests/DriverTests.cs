using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>
/// The driver's part of a rebalance — threads, Try staging, log2phy, the plan — is the same for any placer: here one
/// that is not the reference (slot p of every layer holds expert (p + layer) mod E) goes through every entry path.
/// </summary>
public class DriverTests
{
    private static readonly RebalanceShape s_shape = RebalanceShape.Validate(5, 6, 16, 1, 1, 4);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Rebalance_AnotherPlacer_AssemblesItsPlan(int threads)
    {
        RebalancePlan plan = RebalanceDriver.Rebalance<RotatingPlacer>(new float[30], s_shape, new RebalanceOptions { MaxDegreeOfParallelism = threads });

        plan.MaxReplicaCount.Should().Be(3, "16 slots over 6 experts: four experts get 3, two get 2");
        for (int layer = 0; layer < 5; layer++)
        {
            for (int p = 0; p < 16; p++)
            {
                plan.PhysicalToLogical[layer, p].Should().Be((p + layer) % 6);
            }

            for (int e = 0; e < 6; e++)
            {
                ReadOnlySpan<int> slots = plan.GetLogicalToPhysical(layer, e);
                slots.Length.Should().Be(plan.LogicalReplicaCount[layer, e]);
                for (int r = 0; r < slots.Length; r++)
                {
                    slots[r].Should().Be(Mod(e - layer, 6) + (6 * r), "log2phy is in replica-rank order");
                }
            }
        }
    }

    [Theory]
    [InlineData(16 * 5 * 3)]     // exact: staged, then copied
    [InlineData(16 * 5 * 11)]    // worst case: written in place
    public void TryRebalance_AnotherPlacer_EqualsRebalance(int logicalToPhysicalLength)
    {
        RebalancePlan expected = RebalanceDriver.Rebalance<RotatingPlacer>(new float[30], s_shape, RebalanceOptions.Default);
        int[] p2l = new int[80], l2p = new int[logicalToPhysicalLength], cnt = new int[30];

        RebalanceDriver.TryRebalance<RotatingPlacer>(new float[30], s_shape, RebalanceOptions.Default, p2l, l2p, 0, cnt, out int max).Should().BeTrue();

        max.Should().Be(3);
        p2l.Should().Equal(PlanAssertions.ToArray(expected.PhysicalToLogical));
        cnt.Should().Equal(PlanAssertions.ToArray(expected.LogicalReplicaCount));
        l2p.AsSpan(0, 90).ToArray().Should().Equal(PlanAssertions.ToArray(expected.LogicalToPhysical));
    }

    [Fact]
    public void TryRebalance_AnotherPlacerIntoTooSmallLog2Phy_WritesNothing()
    {
        int[] p2l = Filled(80), l2p = Filled(89), cnt = Filled(30);

        RebalanceDriver.TryRebalance<RotatingPlacer>(new float[30], s_shape, RebalanceOptions.Default, p2l, l2p, 0, cnt, out int max).Should().BeFalse();

        max.Should().Be(RebalanceDriver.Rebalance<RotatingPlacer>(new float[30], s_shape, RebalanceOptions.Default).MaxReplicaCount, "the width the plan needs");
        p2l.Concat(l2p).Concat(cnt).Should().OnlyContain(x => x == 42);
    }

    private static int Mod(int a, int m) => ((a % m) + m) % m;

    private static int[] Filled(int length)
    {
        var a = new int[length];
        Array.Fill(a, 42);
        return a;
    }

    private readonly struct RotatingPlacer(int experts) : ILayerPlacer<RotatingPlacer>
    {
        public static RotatingPlacer Create(in RebalanceShape shape, RebalanceOptions options) => new(shape.Experts);

        public void PlaceLayer(int layer, ReadOnlySpan<float> weight, in LayerPlan plan)
        {
            plan.LogicalReplicaCount.Clear();
            for (int p = 0; p < plan.PhysicalToLogical.Length; p++)
            {
                int expert = (p + layer) % experts;
                plan.PhysicalToLogical[p] = expert;
                plan.ReplicaRank[p] = plan.LogicalReplicaCount[expert]++;
            }
        }

        public void Dispose()
        {
        }
    }
}
