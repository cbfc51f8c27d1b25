using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>The allocation contract: Try allocates nothing in steady state; the allocating overloads only the plan.</summary>
/// <remarks>
/// Alone, not beside tests that allocate hundreds of megabytes: their full collections make the shared array pool
/// trim, and refilling it then counts as an allocation of the next call.
/// </remarks>
[Collection(nameof(ProcessWideMemory))]
public class AllocationTests
{
    [Theory]
    [InlineData(288, 8, 4, 32, TieOrder.LibStdCxx)]
    [InlineData(320, 8, 8, 64, TieOrder.LibStdCxx)]
    [InlineData(288, 8, 18, 144, TieOrder.LibStdCxx)]
    [InlineData(320, 8, 40, 320, TieOrder.LibStdCxx)]
    [InlineData(288, 8, 4, 32, TieOrder.X86SimdSortAvx512)]
    [InlineData(288, 8, 18, 144, TieOrder.X86SimdSortAvx512)]
    [InlineData(288, 8, 4, 32, TieOrder.X86SimdSortAvx2)]
    [InlineData(288, 8, 18, 144, TieOrder.X86SimdSortAvx2)]
    public void TryRebalanceExperts_SteadyState_AllocatesNothing(int replicas, int groups, int nodes, int gpus, TieOrder order)
    {
        var options = new RebalanceOptions { TieOrder = order };
        float[] weight = GoldenCase.Flatten<float>(ExpertLoadGenerator.Generate(58, 256, seed: 1));
        var phy2log = new int[58 * replicas];
        var log2phy = new int[58 * 256 * (replicas - 256 + 1)];
        var logcnt = new int[58 * 256];
        for (int i = 0; i < 3; i++)
        {
            ExpertLoadBalancer.TryRebalanceExperts(weight, 58, replicas, groups, nodes, gpus, phy2log, log2phy, logcnt, out _, options).Should().BeTrue();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        ExpertLoadBalancer.TryRebalanceExperts(weight, 58, replicas, groups, nodes, gpus, phy2log, log2phy, logcnt, out _, options);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().Be(0);
    }

    [Fact]
    public void TryRebalanceExperts_StagedBecauseLog2PhyIsSmall_AllocatesNothing()
    {
        float[] weight = GoldenCase.Flatten<float>(ExpertLoadGenerator.Generate(58, 256, seed: 2));
        int max = ExpertLoadBalancer.RebalanceExperts(weight, 58, 288, 8, 4, 32).MaxReplicaCount;
        var phy2log = new int[58 * 288];
        var log2phy = new int[58 * 256 * max]; // exact: smaller than the worst case, so the plan is staged
        var logcnt = new int[58 * 256];
        ExpertLoadBalancer.TryRebalanceExperts(weight, 58, 288, 8, 4, 32, phy2log, log2phy, logcnt, out _).Should().BeTrue();

        long before = GC.GetAllocatedBytesForCurrentThread();
        ExpertLoadBalancer.TryRebalanceExperts(weight, 58, 288, 8, 4, 32, phy2log, log2phy, logcnt, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().Be(0);
    }

    [Fact]
    public void RebalanceExperts_SteadyState_AllocatesOnlyThePlan()
    {
        float[,] weight = ExpertLoadGenerator.Generate(58, 256, seed: 1);
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(weight, 288, 8, 4, 32);

        long before = GC.GetAllocatedBytesForCurrentThread();
        plan = ExpertLoadBalancer.RebalanceExperts(weight, 288, 8, 4, 32);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        long planArrays = sizeof(int) * ((58L * 288) + (58L * 256 * plan.MaxReplicaCount) + (58L * 256));
        allocated.Should().BeInRange(planArrays, planArrays + 256, "the three arrays plus the plan object and array headers");
    }
}
