using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>
/// Destinations that share memory with each other or with the loads are refused with an ArgumentException naming
/// them, before anything is written — as TensorPrimitives refuses overlapping spans.
/// </summary>
public class OverlapTests
{
    // 2 layers x 8 experts, hot enough that some expert gets 9 replicas: (replicas 16, groups 4, nodes 2, gpus 4).
    private static readonly float[] s_weight = [100, 1, 1, 1, 1, 1, 1, 1, 100, 1, 1, 1, 1, 1, 1, 1];
    private const int Slots = 2 * 16, Entries = 2 * 8, Map = Entries * 9;

    public static TheoryData<string, int, int, int, string> Layouts => new()
    {
        // Offsets of phy2log, log2phy and logcnt in one shared buffer, and the parameter that must be named.
        { "log2phy starts inside phy2log", 0, Slots - 1, Slots + Map, "logicalToPhysical" },
        { "log2phy is phy2log", 0, 0, Slots + Map, "logicalToPhysical" },
        { "phy2log starts inside log2phy", Map - 1, 0, Map + Slots, "logicalToPhysical" },
        { "logcnt starts inside phy2log", 0, Slots + Entries, 1, "logicalReplicaCount" },
        { "logcnt ends inside phy2log", Entries - 1, Slots + Entries, 0, "logicalReplicaCount" },
        { "logcnt starts inside log2phy", 0, Slots, Slots + Map - 1, "logicalReplicaCount" },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void TryRebalanceExperts_OverlappingDestinations_ThrowsAndWritesNothing(string layout, int p2lAt, int l2pAt, int cntAt, string parameter)
    {
        int[] buffer = Filled(Slots + Map + Entries + Map);

        Exception? thrown = Record(() => ExpertLoadBalancer.TryRebalanceExperts(s_weight, 2, 16, 4, 2, 4, buffer.AsSpan(p2lAt, Slots), buffer.AsSpan(l2pAt, Map), buffer.AsSpan(cntAt, Entries), out _));

        thrown.Should().BeOfType<ArgumentException>(layout).Which.ParamName.Should().Be(parameter, layout);
        thrown!.Message.Should().Contain("must not overlap");
        buffer.Should().OnlyContain(x => x == 42, "nothing is written");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void TryRebalanceExperts_TensorOverloadOverlappingDestinations_Throws(string layout, int p2lAt, int l2pAt, int cntAt, string parameter)
    {
        int[] buffer = Filled(Slots + Map + Entries + Map);

        Exception? thrown = Record(() => ExpertLoadBalancer.TryRebalanceExperts(new ReadOnlyTensorSpan<float>(s_weight, [2, 8]), 16, 4, 2, 4,
            buffer.AsSpan(p2lAt, Slots), buffer.AsSpan(l2pAt, Map), buffer.AsSpan(cntAt, Entries), out _));

        thrown.Should().BeOfType<ArgumentException>(layout).Which.ParamName.Should().Be(parameter, layout);
    }

    [Theory]
    [InlineData("physicalToLogical")]
    [InlineData("logicalToPhysical")]
    [InlineData("logicalReplicaCount")]
    public void TryRebalanceExperts_DestinationAliasingTheLoads_Throws(string parameter)
    {
        // The loads live in an int buffer seen as floats; one destination covers them. Before, phy2log aliasing
        // the loads planned later layers from overwritten loads: a wrong plan.
        int[] buffer = new int[Slots + Map + Entries + s_weight.Length];
        s_weight.CopyTo(MemoryMarshal.Cast<int, float>(buffer.AsSpan(buffer.Length - s_weight.Length)));
        int[] p2l = new int[Slots], l2p = new int[Map], cnt = new int[Entries];

        Exception? thrown = Record(() =>
        {
            ReadOnlySpan<float> weight = MemoryMarshal.Cast<int, float>(buffer.AsSpan(buffer.Length - s_weight.Length));
            Span<int> alias = buffer.AsSpan(buffer.Length - s_weight.Length - 4); // covers the loads and a little before
            _ = parameter switch
            {
                "physicalToLogical" => ExpertLoadBalancer.TryRebalanceExperts(weight, 2, 16, 4, 2, 4, alias, l2p, cnt, out _),
                "logicalToPhysical" => ExpertLoadBalancer.TryRebalanceExperts(weight, 2, 16, 4, 2, 4, p2l, alias, cnt, out _),
                _ => ExpertLoadBalancer.TryRebalanceExperts(weight, 2, 16, 4, 2, 4, p2l, l2p, alias, out _),
            };
        });

        thrown.Should().BeOfType<ArgumentException>().Which.ParamName.Should().Be(parameter);
        thrown!.Message.Should().Contain("must not overlap weight");
    }

    [Fact]
    public void TryRebalanceExperts_DestinationInsideAStridedTensorsRange_Throws()
    {
        // A padded [2, 8] view with row stride 11 reads elements 0..18 of its buffer; phy2log over element 9, a
        // padding element between the rows, is still inside the memory the tensor spans.
        int[] buffer = new int[64];
        Span<float> storage = MemoryMarshal.Cast<int, float>(buffer.AsSpan(0, 19));
        for (int l = 0; l < 2; l++)
        {
            s_weight.AsSpan(l * 8, 8).CopyTo(storage.Slice(l * 11));
        }

        Exception? thrown = Record(() =>
        {
            var weight = new ReadOnlyTensorSpan<float>(MemoryMarshal.Cast<int, float>(buffer.AsSpan(0, 19)), [2, 8], [11, 1]);
            ExpertLoadBalancer.TryRebalanceExperts(weight, 16, 4, 2, 4, buffer.AsSpan(9, Slots), new int[Map], new int[Entries], out _);
        });

        thrown.Should().BeOfType<ArgumentException>().Which.ParamName.Should().Be("physicalToLogical");
    }

    [Fact]
    public void TryRebalanceExperts_AdjacentDestinations_AreAccepted()
    {
        int[] buffer = new int[Slots + Map + Entries];
        RebalancePlan expected = ExpertLoadBalancer.RebalanceExperts(s_weight, 2, 16, 4, 2, 4);

        bool ok = ExpertLoadBalancer.TryRebalanceExperts(s_weight, 2, 16, 4, 2, 4,
            buffer.AsSpan(0, Slots), buffer.AsSpan(Slots, Map), buffer.AsSpan(Slots + Map, Entries), out int max);

        ok.Should().BeTrue();
        max.Should().Be(expected.MaxReplicaCount);
        buffer.AsSpan(0, Slots).ToArray().Should().Equal(PlanAssertions.ToArray(expected.PhysicalToLogical));
        buffer.AsSpan(Slots + Map, Entries).ToArray().Should().Equal(PlanAssertions.ToArray(expected.LogicalReplicaCount));
    }

    [Fact]
    public void BalancedPackingPack_OverlappingOutputs_Throws()
    {
        int[] buffer = new int[8];
        FluentActions.Invoking(() => BalancedPacking.Pack([4f, 9f, 1f, 7f], 2, buffer.AsSpan(0, 4), buffer.AsSpan(3, 4)))
            .Should().Throw<ArgumentException>().WithParameterName("rankInPack").WithMessage("*must not overlap packIndex*");
    }

    [Fact]
    public void BalancedPackingPack_OutputAliasingTheWeights_Throws()
    {
        int[] buffer = new int[8];
        FluentActions.Invoking(() => BalancedPacking.Pack(MemoryMarshal.Cast<int, float>(buffer.AsSpan(0, 4)), 2, buffer.AsSpan(0, 4), new int[4]))
            .Should().Throw<ArgumentException>().WithParameterName("packIndex").WithMessage("*must not overlap weight*");
    }

    [Theory]
    [InlineData(0, 4, 8, "replicaRank")]
    [InlineData(0, 8, 3, "logicalReplicaCount")]
    [InlineData(0, 5, 8, "logicalReplicaCount")]
    public void ExpertReplicationReplicate_OverlappingOutputs_Throws(int p2lAt, int rankAt, int cntAt, string parameter)
    {
        int[] buffer = new int[16];
        FluentActions.Invoking(() => ExpertReplication.Replicate([3f, 8f, 2f], 5, buffer.AsSpan(p2lAt, 5), buffer.AsSpan(rankAt, 5), buffer.AsSpan(cntAt, 3)))
            .Should().Throw<ArgumentException>().WithParameterName(parameter);
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static int[] Filled(int length)
    {
        var a = new int[length];
        Array.Fill(a, 42);
        return a;
    }
}
