using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>Cutting layers into blocks for threads: every layer in exactly one block, at every size.</summary>
public class LayerSchedulerTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(58, 2)]
    [InlineData(58, 16)]
    [InlineData(3, 1000)]
    [InlineData(536_870_913, 536_870_913)] // degree * 4 overflowed: no block at all, no layer planned, Try returned true
    [InlineData(int.MaxValue, int.MaxValue)]
    [InlineData(int.MaxValue, 7)]
    public void BlockCount_AnyLayersAndDegree_CoversEveryLayerExactlyOnce(int layers, int degree)
    {
        int blocks = LayerScheduler.BlockCount(layers, degree);

        blocks.Should().BeInRange(1, layers);
        blocks.Should().Be((int)Math.Min(layers, 4L * degree));
        LayerScheduler.BlockStart(layers, blocks, 0).Should().Be(0);
        LayerScheduler.BlockStart(layers, blocks, blocks).Should().Be(layers);
        foreach (int block in new[] { 0, 1, blocks / 2, blocks - 2, blocks - 1 }.Where(b => b >= 0 && b < blocks))
        {
            LayerScheduler.BlockStart(layers, blocks, block + 1).Should().BeGreaterThan(LayerScheduler.BlockStart(layers, blocks, block), "no block is empty");
        }
    }

    [Fact]
    public void TryRebalanceExperts_DegreeMaxValue_PlansEveryLayer()
    {
        float[,] w = Eplb.Workloads.ExpertLoadGenerator.Generate(9, 16, seed: 4);
        RebalancePlan expected = ExpertLoadBalancer.RebalanceExperts(w, 24, 4, 2, 8);
        var phy2log = new int[9 * 24];
        Array.Fill(phy2log, -7);

        ExpertLoadBalancer.TryRebalanceExperts(GoldenCase.Flatten<float>(w), 9, 24, 4, 2, 8, phy2log, new int[9 * 16 * 9], new int[9 * 16], out _,
            new RebalanceOptions { MaxDegreeOfParallelism = int.MaxValue }).Should().BeTrue();

        phy2log.Should().Equal(PlanAssertions.ToArray(expected.PhysicalToLogical));
    }
}
