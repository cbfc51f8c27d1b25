using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Eplb.Workloads;

namespace Eplb.Cli;

/// <summary>
/// <c>eplb</c> with no command: a DeepSeek-V3-shaped load (58 layers x 256 experts, calibrated generator)
/// placed with 288 replicas, 8 groups, 4 nodes, 32 GPUs; what it did, how balanced it is, how long it took.
/// </summary>
internal static class SampleCommand
{
    private const int Layers = 58, Experts = 256, Seed = 2025;
    private static readonly ClusterConfig s_cluster = new(Replicas: 288, Groups: 8, Nodes: 4, Gpus: 32);

    public static void Configure(Command root, TextWriter stdout) => root.SetAction(parsed =>
    {
        float[,] weight = ExpertLoadGenerator.Generate(Layers, Experts, Seed);
        ClusterConfig c = s_cluster;

        long start = Stopwatch.GetTimestamp();
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(weight, c.Replicas, c.Groups, c.Nodes, c.Gpus);
        double firstMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        double[] runs = Timing.Measure(() => ExpertLoadBalancer.RebalanceExperts(weight, c.Replicas, c.Groups, c.Nodes, c.Gpus), 101, out int warmUpCalls);
        var physicalToLogical = new int[Layers * c.Replicas];
        var logicalToPhysical = new int[Layers * Experts * (c.Replicas - Experts + 1)];
        var logicalReplicaCount = new int[Layers * Experts];
        LoadMatrix loads = LoadMatrix.From(weight);
        float[] flat = loads.Values;
        double[] reusedRuns = Timing.Measure(() => ExpertLoadBalancer.TryRebalanceExperts(flat, Layers, c.Replicas, c.Groups, c.Nodes, c.Gpus,
            physicalToLogical, logicalToPhysical, logicalReplicaCount, out int maxReplicaCount), 101, out int reusedWarmUpCalls);
        var analysis = new PlanAnalysis(loads, plan, c);
        double worst = analysis.Layers.Min(s => s.After);
        double maxBefore = analysis.Layers.Average(s => s.BusiestGpuLoadBefore);
        double maxAfter = analysis.Layers.Average(s => s.BusiestGpuLoad);

        stdout.WriteLine(Inv($"""
            eplb sample: placing a DeepSeek-V3-shaped model the way DeepSeek's eplb.py would.

              loads       {Layers} MoE layers x {Experts} experts, {ExpertLoadGenerator.TokensPerExpert * Experts:N0} tokens per layer
                          (calibrated generator, seed {Seed}: a few hot experts per layer, as in real routing)
              cluster     {c.Gpus} GPUs in {c.Nodes} nodes, {c.Replicas} physical expert slots ({c.SlotsPerGpu} per GPU),
                          so {c.Replicas - Experts} slots hold replicas of the hottest experts
              policy      {TableReport.Policy(plan.Policy)}: the {c.Groups} expert groups are packed {c.Groups / c.Nodes} per node, experts are
                          replicated within each node, then packed onto that node's {c.GpusPerNode} GPUs

            Balancedness = mean GPU load / max GPU load in a layer; 1.0 is perfect.
              before      {analysis.MeanBefore:F3}   one replica per expert, {Experts / c.Gpus} contiguous experts per GPU
              after       {analysis.MeanAfter:F3}   mean over the {Layers} layers (worst layer {worst:F3})
              busiest GPU carries {maxBefore:N0} tokens before, {maxAfter:N0} after (mean over layers): {maxBefore / maxAfter:F2}x less

            Rebalance time (median of {runs.Length} calls each, after {warmUpCalls} warm-up calls that let the JIT optimise):
              {Timing.Median(reusedRuns) / 1000:F2} ms  into reused buffers (TryRebalanceExperts: what a server does; allocates nothing)
              {Timing.Median(runs) / 1000:F2} ms  returning a new plan each call (RebalanceExperts)
              The very first call, compiling as it goes, took {firstMs:F1} ms.{BuildNote()}

            Try next:
              eplb generate --layers 58 --experts 256 --output loads.npy
              eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32
              eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32 --svg plan.svg --layers 0-3
              eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32 --algorithm refined
              eplb simulate --replicas 288 --groups 8 --nodes 4 --gpus 32 --chart loop.svg
              eplb --help
            """));
        return 0;
    });

    // A Debug build of the library is not optimised by the JIT, so its timing says little about real speed.
    private static string BuildNote() =>
        typeof(ExpertLoadBalancer).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true
            ? "\n(a Debug build, which the JIT does not optimise; dotnet run -c Release --project src/Eplb.Cli shows real speed)"
            : "";

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
