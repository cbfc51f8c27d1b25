using FluentAssertions;
using System.Numerics.Tensors;
using Xunit;

namespace Eplb.Tests;

/// <summary>One test per rule: bad input throws before any work, naming the parameter and the rule.</summary>
public class ValidationTests
{
    // 2 layers x 8 experts, valid with (replicas 16, groups 4, nodes 2, gpus 4).
    private static float[] Weights(int layers = 2, int experts = 8) =>
        Enumerable.Range(0, layers * experts).Select(i => (float)(i % 7)).ToArray();

    private static Action Call(float[] w, int layers = 2, int replicas = 16, int groups = 4, int nodes = 2, int gpus = 4) =>
        () => ExpertLoadBalancer.RebalanceExperts(w, layers, replicas, groups, nodes, gpus);

    [Fact]
    public void RebalanceExperts_EmptyWeight_ThrowsNamingWeight() =>
        Call([]).Should().Throw<ArgumentException>().WithParameterName("weight").WithMessage("*must not be empty*");

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void RebalanceExperts_NonPositiveLayers_ThrowsOutOfRange(int layers) =>
        Call(Weights(), layers: layers).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("numLayers").WithMessage("*must be positive*");

    [Fact]
    public void RebalanceExperts_LayersNotDividingLength_Throws() =>
        Call(Weights(2, 8), layers: 3).Should().Throw<ArgumentException>().WithParameterName("numLayers").WithMessage("*must divide the length of weight (16)*");

    [Theory]
    [InlineData("numReplicas", 0, 4, 2, 4)]
    [InlineData("numReplicas", -16, 4, 2, 4)]
    [InlineData("numGroups", 16, 0, 2, 4)]
    [InlineData("numGroups", 16, -4, 2, 4)]
    [InlineData("numNodes", 16, 4, 0, 4)]
    [InlineData("numNodes", 16, 4, -2, 4)]
    [InlineData("numGpus", 16, 4, 2, 0)]
    [InlineData("numGpus", 16, 4, 2, -4)]
    public void RebalanceExperts_NonPositiveSize_ThrowsOutOfRange(string parameter, int replicas, int groups, int nodes, int gpus) =>
        Call(Weights(), replicas: replicas, groups: groups, nodes: nodes, gpus: gpus)
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName(parameter).WithMessage("*must be positive*");

    [Fact]
    public void RebalanceExperts_FewerReplicasThanExperts_ThrowsOutOfRange() =>
        Call(Weights(2, 8), replicas: 4, gpus: 4).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("numReplicas").WithMessage("numReplicas (4) must be at least the number of logical experts (8)*");

    [Fact]
    public void RebalanceExperts_GpusNotMultipleOfNodes_Throws() =>
        Call(Weights(), replicas: 18, groups: 4, nodes: 2, gpus: 3).Should().Throw<ArgumentException>()
            .WithParameterName("numGpus").WithMessage("numGpus (3) must be a multiple of numNodes (2)*");

    [Fact]
    public void RebalanceExperts_GpusNotMultipleOfNodesUnderGlobalPolicy_StillThrows()
    {
        // eplb.py's global path calls the procedure with one node and never checks this; a cluster whose nodes
        // hold unequal GPU counts is a configuration mistake, so it is rejected under both policies.
        Call(Weights(), replicas: 15, groups: 3, nodes: 2, gpus: 3).Should().Throw<ArgumentException>().WithParameterName("numGpus");
    }

    [Fact]
    public void RebalanceExperts_ReplicasNotMultipleOfGpus_Throws() =>
        Call(Weights(), replicas: 18, gpus: 4).Should().Throw<ArgumentException>()
            .WithParameterName("numReplicas").WithMessage("numReplicas (18) must be a multiple of numGpus (4)*");

    [Fact]
    public void RebalanceExperts_GroupsNotDividingExpertsUnderHierarchicalPolicy_Throws() =>
        Call(Weights(2, 9), replicas: 16, groups: 2, nodes: 2, gpus: 4).Should().Throw<ArgumentException>()
            .WithParameterName("numGroups").WithMessage("numGroups (2) must divide the number of logical experts (9) under the hierarchical policy*");

    [Fact]
    public void RebalanceExperts_GroupsNotDividingExpertsUnderGlobalPolicy_IsAccepted()
    {
        // 3 groups on 2 nodes selects the global policy, which ignores groups: eplb.py accepts it, and so do we.
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(Weights(2, 10), 2, 16, 3, 2, 4);
        plan.Policy.Should().Be(RebalancePolicy.Global);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "infinite")]
    [InlineData(float.NegativeInfinity, "infinite")]
    [InlineData(-1f, "negative")]
    [InlineData(-1e-30f, "negative")]
    public void RebalanceExperts_InvalidLoad_ThrowsNamingWeightAndPosition(float bad, string problem)
    {
        float[] w = Weights();
        w[8 + 5] = bad; // layer 1, expert 5
        Call(w).Should().Throw<ArgumentException>().WithParameterName("weight")
            .WithMessage($"*finite and non-negative*layer 1, expert 5 is {problem}*");
    }

    [Fact]
    public void RebalanceExperts_NegativeZeroLoad_IsAccepted()
    {
        float[] w = Weights();
        w[3] = -0f;
        Call(w).Should().NotThrow();
    }

    [Fact]
    public void RebalanceExperts_OutputLargerThanAnArray_ThrowsBeforeAllocating()
    {
        // 200 layers x 1 expert with 2^24 slots each: 3.4e9 phy2log entries cannot exist.
        Call(new float[200], layers: 200, replicas: RebalanceLimits.MaxPhysicalExperts, groups: 1, nodes: 1, gpus: 1)
            .Should().Throw<ArgumentException>().WithParameterName("numReplicas").WithMessage("*more than an array can hold*");
    }

    [Fact]
    public void RebalanceExperts_NullArray_ThrowsArgumentNull() =>
        FluentActions.Invoking(() => ExpertLoadBalancer.RebalanceExperts((float[,])null!, 16, 4, 2, 4))
            .Should().Throw<ArgumentNullException>().WithParameterName("weight");

    [Theory]
    [InlineData(0, 8)]
    [InlineData(2, 0)]
    public void RebalanceExperts_EmptyArray_ThrowsNamingWeight(int layers, int experts) =>
        FluentActions.Invoking(() => ExpertLoadBalancer.RebalanceExperts(new float[layers, experts], 16, 4, 2, 4))
            .Should().Throw<ArgumentException>().WithParameterName("weight").WithMessage("*must not be empty*");

    [Fact]
    public void RebalanceExperts_TensorOfRankOne_ThrowsNamingWeight() =>
        FluentActions.Invoking(() => ExpertLoadBalancer.RebalanceExperts(new ReadOnlyTensorSpan<float>(Weights()), 16, 4, 2, 4))
            .Should().Throw<ArgumentException>().WithParameterName("weight").WithMessage("*two-dimensional*rank is 1*");

    [Fact]
    public void RebalanceExperts_TensorOfRankThree_ThrowsNamingWeight() =>
        FluentActions.Invoking(() => ExpertLoadBalancer.RebalanceExperts(new ReadOnlyTensorSpan<float>(Weights(), [2, 2, 4]), 16, 4, 2, 4))
            .Should().Throw<ArgumentException>().WithParameterName("weight").WithMessage("*rank is 3*");

    [Fact]
    public void RebalanceExperts_EmptyTensor_ThrowsNamingWeight() =>
        FluentActions.Invoking(() => ExpertLoadBalancer.RebalanceExperts(new ReadOnlyTensorSpan<float>(Array.Empty<float>(), [0, 8]), 16, 4, 2, 4))
            .Should().Throw<ArgumentException>().WithParameterName("weight").WithMessage("*must not be empty*");

    [Fact]
    public void TryRebalanceExperts_InvalidArgument_ThrowsRatherThanReturningFalse() =>
        FluentActions.Invoking(() => ExpertLoadBalancer.TryRebalanceExperts(Weights(), 2, 18, 4, 2, 4, new int[100], new int[1000], new int[100], out _))
            .Should().Throw<ArgumentException>().WithParameterName("numReplicas");

    [Theory]
    [InlineData(31, 1000, 16)]  // phy2log one short
    [InlineData(32, 1000, 15)]  // logcnt one short
    [InlineData(32, 16, 16)]    // log2phy too short for the plan's replica count
    public void TryRebalanceExperts_DestinationTooSmall_ReturnsFalseAndWritesNothing(int slots, int map, int counts)
    {
        float[] w = [100, 1, 1, 1, 1, 1, 1, 1, 100, 1, 1, 1, 1, 1, 1, 1]; // hot experts: max replica count > 1
        int[] phy2log = Filled(slots), log2phy = Filled(map), logcnt = Filled(counts);

        bool ok = ExpertLoadBalancer.TryRebalanceExperts(w, 2, 16, 4, 2, 4, phy2log, log2phy, logcnt, out int maxReplicaCount);

        ok.Should().BeFalse();
        maxReplicaCount.Should().Be(ExpertLoadBalancer.RebalanceExperts(w, 2, 16, 4, 2, 4).MaxReplicaCount, "a failed call reports the width log2phy needs");
        phy2log.Should().OnlyContain(x => x == 42);
        log2phy.Should().OnlyContain(x => x == 42);
        logcnt.Should().OnlyContain(x => x == 42);
    }

    [Fact]
    public void TryRebalanceExperts_ExactlySizedDestinations_Succeeds()
    {
        float[] w = [100, 1, 1, 1, 1, 1, 1, 1, 100, 1, 1, 1, 1, 1, 1, 1];
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(w, 2, 16, 4, 2, 4);
        int[] log2phy = new int[16 * plan.MaxReplicaCount];

        ExpertLoadBalancer.TryRebalanceExperts(w, 2, 16, 4, 2, 4, new int[32], log2phy, new int[16], out int max).Should().BeTrue();

        max.Should().Be(plan.MaxReplicaCount);
        log2phy.Should().Equal(PlanAssertions.ToArray(plan.LogicalToPhysical));
    }

    [Fact]
    public void BalancedPacking_PacksNotDividingItems_Throws() =>
        FluentActions.Invoking(() => BalancedPacking.Pack([1f, 2f, 3f], 2, new int[3], new int[3]))
            .Should().Throw<ArgumentException>().WithParameterName("numPacks").WithMessage("numPacks (2) must divide the item count (3)*");

    [Fact]
    public void BalancedPacking_NonPositivePacks_ThrowsOutOfRange() =>
        FluentActions.Invoking(() => BalancedPacking.Pack([1f, 2f], 0, new int[2], new int[2]))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("numPacks");

    [Fact]
    public void BalancedPacking_ShortDestination_Throws() =>
        FluentActions.Invoking(() => BalancedPacking.Pack([1f, 2f], 1, new int[1], new int[2]))
            .Should().Throw<ArgumentException>().WithParameterName("packIndex").WithMessage("*too short*");

    [Fact]
    public void BalancedPacking_NegativeWeight_Throws() =>
        FluentActions.Invoking(() => BalancedPacking.Pack([1f, -2f], 1, new int[2], new int[2]))
            .Should().Throw<ArgumentException>().WithParameterName("weight").WithMessage("*negative*");

    [Fact]
    public void ExpertReplication_FewerSlotsThanExperts_ThrowsOutOfRange() =>
        FluentActions.Invoking(() => ExpertReplication.Replicate([1f, 2f, 3f], 2, new int[3], new int[3], new int[3]))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("numPhysical");

    [Fact]
    public void ExpertReplication_ShortCountDestination_Throws() =>
        FluentActions.Invoking(() => ExpertReplication.Replicate([1f, 2f, 3f], 4, new int[4], new int[4], new int[2]))
            .Should().Throw<ArgumentException>().WithParameterName("logicalReplicaCount");

    [Fact]
    public void ExpertReplication_NaNWeight_Throws() =>
        FluentActions.Invoking(() => ExpertReplication.Replicate(new float[,] { { 1f, float.NaN } }, 3))
            .Should().Throw<ArgumentException>().WithParameterName("weight").WithMessage("*expert 1 is NaN*");

    [Fact]
    public void RebalancePlan_LayerOutOfRange_ThrowsOutOfRange()
    {
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(Weights(), 2, 16, 4, 2, 4);
        FluentActions.Invoking(() => plan.GetPhysicalToLogical(2)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("layer");
        FluentActions.Invoking(() => plan.GetLogicalToPhysical(0, 8)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("expert");
    }

    [Fact]
    public void RebalanceOptions_UndefinedTieOrder_ThrowsOutOfRange() =>
        FluentActions.Invoking(() => new RebalanceOptions { TieOrder = (TieOrder)3 })
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("TieOrder");

    [Fact]
    public void BalancedPacking_UndefinedTieOrder_ThrowsOutOfRange() =>
        FluentActions.Invoking(() => BalancedPacking.Pack([1f, 2f], 1, new int[2], new int[2], (TieOrder)(-1)))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("tieOrder");

    [Fact]
    public void BalancedPacking_TieOrders_PackTiesAsEachSortOrdersThem()
    {
        // Eight equal items on four packs: libstdc++'s sort visits them in index order, x86-simd-sort in reverse
        // (ascending, then reversed), so the first pack takes items 0 and 4 in one case and 7 and 3 in the other.
        float[] tied = [5, 5, 5, 5, 5, 5, 5, 5];
        int[] libstdcxx = new int[8], avx512 = new int[8], rank = new int[8];

        BalancedPacking.Pack(tied, 4, libstdcxx, rank, TieOrder.LibStdCxx);
        BalancedPacking.Pack(tied, 4, avx512, rank, TieOrder.X86SimdSortAvx512);

        libstdcxx.Should().Equal(0, 1, 2, 3, 0, 1, 2, 3);
        avx512.Should().Equal(3, 2, 1, 0, 3, 2, 1, 0);
    }

    private static int[] Filled(int length)
    {
        var a = new int[length];
        Array.Fill(a, 42);
        return a;
    }
}
