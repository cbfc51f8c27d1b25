using FluentAssertions;
using System.Numerics.Tensors;
using Xunit;

namespace Eplb.Tests;

/// <summary>Every reference case, bit for bit, through every entry point.</summary>
public class GoldenTests
{
    public static TheoryData<string> Cases => GoldenCases.Names();

    [Fact]
    public void GoldenCases_AllFilesLoaded_Has312CasesPerTieOrder()
    {
        GoldenCases.All.Should().HaveCount(3 * 312);
        GoldenCases.All.Select(c => c.Id).Should().OnlyHaveUniqueItems();
        foreach (TieOrder order in GoldenCases.Orders)
        {
            GoldenCases.All.Where(c => c.TieOrder == order).Select(c => c.Name).Should()
                .Equal(GoldenCases.All.Where(c => c.TieOrder == TieOrder.LibStdCxx).Select(c => c.Name), "the same inputs under every sort");
        }
    }

    [Fact]
    public void GoldenCases_TieOrders_DisagreeOnMostCases()
    {
        // What makes the option matter: the same eplb.py returns different plans under the three sorts (phy2log or
        // log2phy differ in 271 of 312 cases between libstdc++ and x86-simd-sort, in 7 between its two builds).
        int Differ(TieOrder a, TieOrder b) => GoldenCases.All.Where(c => c.TieOrder == a)
            .Zip(GoldenCases.All.Where(c => c.TieOrder == b))
            .Count(p => !GoldenCase.Flatten<int>(p.First.PhysicalToLogical).SequenceEqual(GoldenCase.Flatten<int>(p.Second.PhysicalToLogical))
                || !GoldenCase.Flatten<int>(p.First.LogicalToPhysical).SequenceEqual(GoldenCase.Flatten<int>(p.Second.LogicalToPhysical)));

        Differ(TieOrder.LibStdCxx, TieOrder.X86SimdSortAvx512).Should().Be(271);
        Differ(TieOrder.LibStdCxx, TieOrder.X86SimdSortAvx2).Should().Be(271);
        Differ(TieOrder.X86SimdSortAvx512, TieOrder.X86SimdSortAvx2).Should().Be(7);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RebalanceExperts_Array_MatchesReference(string name)
    {
        GoldenCase c = GoldenCases.Get(name);
        ExpertLoadBalancer.RebalanceExperts(c.Weights, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus, c.Options).ShouldMatch(c);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RebalanceExperts_Span_MatchesReference(string name)
    {
        GoldenCase c = GoldenCases.Get(name);
        ExpertLoadBalancer.RebalanceExperts(c.FlatWeights(), c.NumLayers, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus, c.Options).ShouldMatch(c);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RebalanceExperts_TensorSpan_MatchesReference(string name)
    {
        GoldenCase c = GoldenCases.Get(name);
        var tensor = new ReadOnlyTensorSpan<float>(c.FlatWeights(), [c.NumLayers, c.NumExperts]);
        ExpertLoadBalancer.RebalanceExperts(tensor, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus, c.Options).ShouldMatch(c);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RebalanceExperts_StridedTensorSpan_MatchesReference(string name)
    {
        // Rows padded to a wider stride, as when the loads are a slice of a larger buffer: not dense, so the
        // library must read them through the strides.
        GoldenCase c = GoldenCases.Get(name);
        int layers = c.NumLayers, experts = c.NumExperts, stride = experts + 3;
        var padded = new float[layers * stride];
        Array.Fill(padded, float.NaN); // padding the library must never read
        for (int l = 0; l < layers; l++)
        {
            for (int e = 0; e < experts; e++)
            {
                padded[(l * stride) + e] = c.Weights[l, e];
            }
        }

        // System.Numerics.Tensors wants stride 0 on a dimension of length 1.
        var tensor = new ReadOnlyTensorSpan<float>(padded, [layers, experts], [layers == 1 ? 0 : stride, experts == 1 ? 0 : 1]);
        tensor.IsDense.Should().Be(layers == 1, "only a single padded row is dense");
        ExpertLoadBalancer.RebalanceExperts(tensor, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus, c.Options).ShouldMatch(c);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TryRebalanceExperts_WorstCaseBuffer_MatchesReference(string name)
    {
        GoldenCase c = GoldenCases.Get(name);
        int worstCase = c.NumLayers * c.NumExperts * (c.NumReplicas - c.NumExperts + 1);
        AssertTry(c, worstCase);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TryRebalanceExperts_ExactBuffer_MatchesReference(string name)
    {
        GoldenCase c = GoldenCases.Get(name);
        AssertTry(c, c.LogicalToPhysical.Length);
    }

    private static void AssertTry(GoldenCase c, int logicalToPhysicalLength)
    {
        var phy2log = new int[c.NumLayers * c.NumReplicas];
        var log2phy = new int[logicalToPhysicalLength];
        var logcnt = new int[c.NumLayers * c.NumExperts];
        var tensor = new ReadOnlyTensorSpan<float>(c.FlatWeights(), [c.NumLayers, c.NumExperts]);

        bool ok = ExpertLoadBalancer.TryRebalanceExperts(tensor, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus,
            phy2log, log2phy, logcnt, out int maxReplicaCount, c.Options);

        ok.Should().BeTrue();
        maxReplicaCount.Should().Be(c.LogicalToPhysical.GetLength(2));
        phy2log.Should().Equal(GoldenCase.Flatten<int>(c.PhysicalToLogical));
        log2phy.AsSpan(0, c.LogicalToPhysical.Length).ToArray().Should().Equal(GoldenCase.Flatten<int>(c.LogicalToPhysical));
        logcnt.Should().Equal(GoldenCase.Flatten<int>(c.LogicalReplicaCount));
    }
}
