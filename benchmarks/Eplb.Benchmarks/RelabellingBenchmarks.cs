using BenchmarkDotNet.Attributes;
using Eplb.Workloads;

namespace Eplb.Benchmarks;

/// <summary>
/// What move-minimising re-placement costs next to the rebalance it follows (the baseline, in the same run): the
/// DeepSeek-V3 configurations, a plan for one step of a drifting series relabelled against the previous step's.
/// </summary>
[MemoryDiagnoser]
public class RelabellingBenchmarks
{
    private float[,] _loads = new float[1, 1];
    private RebalancePlan _fresh = null!;
    private int[] _inForce = [];

    public static IEnumerable<Workload> Workloads() => Workload.DeepSeekV3();

    [ParamsSource(nameof(Workloads))]
    public Workload W { get; set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        float[][,] series = ExpertLoadGenerator.GenerateSeries(2, W.Layers, W.Experts, seed: 3, numGroups: W.Groups, groupCorrelation: true);
        _loads = series[1];
        _fresh = ExpertLoadBalancer.RebalanceExperts(_loads, W.Replicas, W.Groups, W.Nodes, W.Gpus);
        RebalancePlan inForce = ExpertLoadBalancer.RebalanceExperts(series[0], W.Replicas, W.Groups, W.Nodes, W.Gpus);
        _inForce = new int[W.Layers * W.Replicas];
        inForce.PhysicalToLogical.FlattenTo(_inForce);
    }

    [Benchmark(Baseline = true)]
    public RebalancePlan Rebalance() => ExpertLoadBalancer.RebalanceExperts(_loads, W.Replicas, W.Groups, W.Nodes, W.Gpus);

    [Benchmark]
    public RelabelledPlan Relabel() => PlanRelabelling.Relabel(_fresh, _inForce);

    /// <summary>Relabelling and then <c>log2phy</c>, built on first reading: what a server that routes by the new plan pays.</summary>
    [Benchmark]
    public nint RelabelAndReadLogicalToPhysical() => PlanRelabelling.Relabel(_fresh, _inForce).Plan.LogicalToPhysical.FlattenedLength;

    /// <summary>Relabelling, <c>log2phy</c> and the list of copies: what a server that migrates pays.</summary>
    [Benchmark]
    public int RelabelAndMigrate()
    {
        RelabelledPlan next = PlanRelabelling.Relabel(_fresh, _inForce);
        return (int)next.Plan.LogicalToPhysical.FlattenedLength + next.Migration.Moves.Count;
    }
}
