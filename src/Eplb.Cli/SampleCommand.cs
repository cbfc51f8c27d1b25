using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace Eplb.Cli;

/// <summary>
/// <c>eplb</c> with no command: a DeepSeek-V3-shaped load (58 layers x 256 experts, calibrated generator)
/// placed with 288 replicas, 8 groups, 4 nodes, 32 GPUs; what it did, how balanced it is, how long it took.
/// </summary>
internal static class SampleCommand
{
    private const int Layers = 58, Experts = 256, Seed = 2025;
    private static readonly ClusterConfig s_cluster = new(Replicas: 288, Groups: 8, Nodes: 4, Gpus: 32);

    public static void Configure(RootCommand root, TextWriter stdout) => root.SetAction(_ =>
    {
        float[,] weight = ExpertLoadGenerator.Generate(Layers, Experts, Seed);
        ClusterConfig c = s_cluster;

        long start = Stopwatch.GetTimestamp();
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(weight, c.Replicas, c.Groups, c.Nodes, c.Gpus);
        double firstMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var runs = new double[51];
        for (int i = 0; i < runs.Length; i++)
        {
            start = Stopwatch.GetTimestamp();
            ExpertLoadBalancer.RebalanceExperts(weight, c.Replicas, c.Groups, c.Nodes, c.Gpus);
            runs[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(runs);
        var values = new float[weight.Length];
        Buffer.BlockCopy(weight, 0, values, 0, values.Length * sizeof(float));
        var analysis = new PlanAnalysis(new LoadMatrix(values, Layers, Experts), plan, c);
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

            Rebalance time: {runs[runs.Length / 2]:F2} ms (median of {runs.Length} calls; the first call, with JIT, took {firstMs:F1} ms).

            Try next:
              eplb generate --layers 58 --experts 256 --output loads.npy
              eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32
              eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32 --svg plan.svg --layers 0-3
              eplb --help
            """));
        return 0;
    });

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
