using System.Runtime.InteropServices;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>
/// Sizes beyond <see cref="RebalanceLimits"/> are refused up front, with the parameter named, before any allocation:
/// never a hang, an IndexOutOfRangeException, an OutOfMemoryException or an unnamed parameter.
/// </summary>
[Collection(nameof(ProcessWideMemory))] // plans of hundreds of megabytes: kept apart from the allocation tests
public unsafe class LimitTests
{
    private const int Max = RebalanceLimits.MaxPhysicalExperts;

    [Theory]
    [InlineData(1, 1_073_741_825, 1_073_741_825, 1)] // tournament tree sizing overflowed and looped forever
    [InlineData(1, 536_870_920, 268_435_460, 1)]     // per-node scratch overflowed: IndexOutOfRangeException
    [InlineData(2, 536_870_920, 268_435_460, 2)]     // the same on two threads: AggregateException
    [InlineData(1, 1_073_741_826, 2, 1)]             // an internal helper's unnamed ArgumentOutOfRangeException
    [InlineData(1, Max + 1, 1, 1)]
    public void RebalanceExperts_SlotsBeyondLimit_ThrowsNamingNumReplicas(int layers, int replicas, int gpus, int threads)
    {
        var options = new RebalanceOptions { MaxDegreeOfParallelism = threads };

        Exception? thrown = Within.Seconds(10, () => ExpertLoadBalancer.RebalanceExperts(new float[layers, 1], replicas, 1, 1, gpus, options));

        thrown.Should().BeOfType<ArgumentOutOfRangeException>()
            .Which.ParamName.Should().Be("numReplicas");
        thrown!.Message.Should().Contain($"must be at most RebalanceLimits.MaxPhysicalExperts ({Max})");
    }

    [Fact]
    public void TryRebalanceExperts_SlotsBeyondLimit_ThrowsBeforeTouchingDestinations()
    {
        int[] untouched = [42];

        Exception? thrown = Within.Seconds(10, () =>
            ExpertLoadBalancer.TryRebalanceExperts([1f], 1, Max + 8, 1, 1, 8, untouched, untouched, untouched, out _));

        thrown.Should().BeOfType<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("numReplicas");
        untouched.Should().Equal(42);
    }

    [Fact]
    public void RebalanceExperts_AtLimit_PlansEverySlot()
    {
        // One expert in 2^24 slots, one per GPU: the largest layer accepted, planned in well under a second.
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(new float[,] { { 5f } }, Max, 1, 1, Max);

        plan.MaxReplicaCount.Should().Be(Max);
        plan.GetLogicalReplicaCount(0)[0].Should().Be(Max);
        plan.GetPhysicalToLogical(0).IndexOfAnyExcept(0).Should().Be(-1, "every slot holds the only expert");
        plan.GetLogicalToPhysical(0, 0)[Max - 1].Should().Be(Max - 1);
    }

    [Theory]
    [InlineData((1 << 30) + 1)] // the tournament tree's sizing looped forever
    [InlineData((1 << 28) + 1)] // its scratch length overflowed: minimumLength with a negative value
    [InlineData(Max + 1)]
    public void BalancedPackingPack_ItemsBeyondLimit_ThrowsNamingWeight(int items)
    {
        using var huge = new UntouchedNativeFloats(items);

        Exception? thrown = Within.Seconds(10, () => BalancedPacking.Pack(huge.Span, 1, new int[1], new int[1]));

        thrown.Should().BeOfType<ArgumentException>().Which.ParamName.Should().Be("weight");
        thrown!.Message.Should().Contain($"more than RebalanceLimits.MaxPhysicalExperts ({Max})");
    }

    [Theory]
    [InlineData((1 << 30) + 1)]
    [InlineData((1 << 28) + 1)]
    [InlineData(Max + 1)]
    public void ExpertReplicationReplicate_ExpertsBeyondLimit_ThrowsNamingNumPhysical(int experts)
    {
        using var huge = new UntouchedNativeFloats(experts);

        Exception? thrown = Within.Seconds(10, () => ExpertReplication.Replicate(huge.Span, experts, new int[1], new int[1], new int[1]));

        thrown.Should().BeOfType<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("numPhysical");
    }

    [Fact]
    public void ExpertReplicationReplicate_SlotsBeyondLimit_ThrowsBeforeAllocatingOutputs() =>
        Within.Seconds(10, () => ExpertReplication.Replicate(new float[1, 1], (1 << 28) + 1))
            .Should().BeOfType<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("numPhysical");

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(2, 4)]
    [InlineData(4, 4)]
    [InlineData(5, 16)]
    [InlineData(17, 64)]
    [InlineData(Max, Max)]
    [InlineData(Max + 1, 4 * Max)]
    [InlineData(TournamentTree.MaxCount, TournamentTree.MaxCount)]
    public void TournamentTreeLeaves_AnyCountUpToItsMaximum_IsTheNextPowerOfFour(int count, int leaves) =>
        TournamentTree.Leaves(count).Should().Be(leaves);

    /// <summary>A span of floats over memory the OS has reserved but not committed: valid to hold, never read.</summary>
    private sealed class UntouchedNativeFloats(int length) : IDisposable
    {
        private readonly float* _pointer = (float*)NativeMemory.Alloc((nuint)length, sizeof(float));

        public ReadOnlySpan<float> Span => new(_pointer, length);

        public void Dispose() => NativeMemory.Free(_pointer);
    }
}
