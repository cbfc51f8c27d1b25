using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>Tests that read process-wide memory counters, so they run alone.</summary>
[CollectionDefinition(nameof(ProcessWideMemory), DisableParallelization = true)]
public sealed class ProcessWideMemory
{
}

/// <summary>What a call leaves behind, and what the parallel path allocates.</summary>
[Collection(nameof(ProcessWideMemory))]
public class MemoryTests
{
    // Retained by design: a kept workspace per thread and pooled arrays, each at most this.
    private const long Bound = 4L * RebalanceLimits.MaxRetainedScratchBytes;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RebalanceExperts_HugeCall_LeavesNothingLargeBehind(int threads)
    {
        // One expert in 2^22 slots on two GPUs per layer: a workspace of tens of megabytes per thread (sort keys,
        // slots, positions), and 16 MB of replica ranks. Before, the thread kept the workspace and the shared pool
        // the ranks: 343 MB after the plan was gone.
        var options = new RebalanceOptions { MaxDegreeOfParallelism = threads };
        ExpertLoadBalancer.RebalanceExperts(new float[,] { { 1 }, { 2 } }, 8, 1, 1, 2, options); // small: may be kept
        long before = GC.GetTotalMemory(forceFullCollection: true);

        long planBytes = Plan(options);
        long after = GC.GetTotalMemory(forceFullCollection: true);

        planBytes.Should().BeGreaterThan(30_000_000, "the call itself is large");
        (after - before).Should().BeLessThan(Bound);
    }

    [Fact]
    public void TryRebalanceExperts_SeveralThreads_AllocatesOnlyASmallConstant()
    {
        // Parallel.For allocates for its scheduling; RebalanceOptions.MaxDegreeOfParallelism documents "about 2 KB
        // per call, whatever the model's size". One thread allocates nothing (AllocationTests).
        var options = new RebalanceOptions { MaxDegreeOfParallelism = 2 };
        long small = AllocatedPerTry(58, options), large = AllocatedPerTry(580, options);

        small.Should().BeInRange(1, 4096);
        large.Should().BeInRange(1, 4096);
    }

    private static long Plan(RebalanceOptions options)
    {
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(new float[,] { { 1 }, { 2 } }, 1 << 22, 1, 1, 2, options);
        return 4L * (plan.PhysicalToLogical.FlattenedLength + plan.LogicalToPhysical.FlattenedLength);
    }

    private static long AllocatedPerTry(int layers, RebalanceOptions options)
    {
        float[] weight = GoldenCase.Flatten<float>(ExpertLoadGenerator.Generate(layers, 256, seed: 3));
        var phy2log = new int[layers * 288];
        var log2phy = new int[layers * 256 * 33];
        var logcnt = new int[layers * 256];
        for (int i = 0; i < 5; i++)
        {
            ExpertLoadBalancer.TryRebalanceExperts(weight, layers, 288, 8, 4, 32, phy2log, log2phy, logcnt, out _, options);
        }

        long least = long.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            ExpertLoadBalancer.TryRebalanceExperts(weight, layers, 288, 8, 4, 32, phy2log, log2phy, logcnt, out _, options);
            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        return least;
    }
}
