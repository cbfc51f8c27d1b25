using BenchmarkDotNet.Attributes;
using Eplb.Workloads;

namespace Eplb.Benchmarks;

/// <summary>
/// What the refined algorithm and budgeted migration cost next to the reference rebalance (the baseline, in the same
/// run), on DeepSeek-V3's clusters: the refined target is at most 20 times the reference.
/// </summary>
[MemoryDiagnoser]
public class RefinedBenchmarks
{
    private static readonly RebalanceOptions s_refined = new() { Algorithm = RebalanceAlgorithm.Refined };
    private float[] _weights = [];
    private float[] _next = [];
    private int[] _inForce = [];

    public static IEnumerable<Workload> Workloads() => Workload.DeepSeekV3();

    [ParamsSource(nameof(Workloads))]
    public Workload W { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        _weights = W.Weights;
        float[][,] series = ExpertLoadGenerator.GenerateSeries(2, W.Layers, W.Experts, seed: 3, numGroups: W.Groups, drift: 0.1);
        _next = new float[W.Layers * W.Experts];
        Buffer.BlockCopy(series[1], 0, _next, 0, _next.Length * sizeof(float));
        RebalancePlan inForce = ExpertLoadBalancer.RebalanceExperts(series[0], W.Replicas, W.Groups, W.Nodes, W.Gpus);
        _inForce = new int[W.Layers * W.Replicas];
        inForce.PhysicalToLogical.FlattenTo(_inForce);
    }

    [Benchmark(Baseline = true)]
    public RebalancePlan Reference() => ExpertLoadBalancer.RebalanceExperts(_weights, W.Layers, W.Replicas, W.Groups, W.Nodes, W.Gpus);

    [Benchmark]
    public RebalancePlan Refined() => ExpertLoadBalancer.RebalanceExperts(_weights, W.Layers, W.Replicas, W.Groups, W.Nodes, W.Gpus, s_refined);

    /// <summary>Budgeted migration, 64 copies per layer, from a plan one mildly drifted step old.</summary>
    [Benchmark]
    public RelabelledPlan Budgeted64() => BudgetedRebalance.RebalanceExperts(_next, W.Layers, _inForce, W.Replicas, W.Groups, W.Nodes, W.Gpus, 64);
}
