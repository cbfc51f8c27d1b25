using BenchmarkDotNet.Attributes;

namespace Eplb.Benchmarks;

/// <summary>
/// What each tie order costs: TryRebalanceExperts on the DeepSeek-V3 configurations under libstdc++'s order (the
/// baseline, in the same run) and under x86-simd-sort's AVX-512 and AVX2 orders, with the same loads every call and
/// with fresh ones.
/// </summary>
[MemoryDiagnoser]
public class TieOrderBenchmarks
{
    private int[] _physicalToLogical = [];
    private int[] _logicalToPhysical = [];
    private int[] _logicalReplicaCount = [];
    private RebalanceOptions _libStdCxx = RebalanceOptions.Default, _avx512 = RebalanceOptions.Default, _avx2 = RebalanceOptions.Default;
    private int _next;

    public static IEnumerable<Workload> Workloads() => Workload.DeepSeekV3();

    [ParamsSource(nameof(Workloads))]
    public Workload W { get; set; } = null!;

    [Params(false, true)]
    public bool FreshLoads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _physicalToLogical = new int[W.Layers * W.Replicas];
        _logicalToPhysical = new int[W.Layers * W.Experts * (W.Replicas - W.Experts + 1)];
        _logicalReplicaCount = new int[W.Layers * W.Experts];
        _libStdCxx = new RebalanceOptions { TieOrder = TieOrder.LibStdCxx };
        _avx512 = new RebalanceOptions { TieOrder = TieOrder.X86SimdSortAvx512 };
        _avx2 = new RebalanceOptions { TieOrder = TieOrder.X86SimdSortAvx2 };
        _ = FreshLoads ? W.FreshWeights.Length : W.Weights.Length; // generated here, not in the first measured call
    }

    [Benchmark(Baseline = true)]
    public int LibStdCxx() => Try(_libStdCxx);

    [Benchmark]
    public int X86SimdSortAvx512() => Try(_avx512);

    [Benchmark]
    public int X86SimdSortAvx2() => Try(_avx2);

    private int Try(RebalanceOptions options)
    {
        float[] loads = FreshLoads ? W.FreshWeights[_next++ % Workload.FreshCount] : W.Weights;
        ExpertLoadBalancer.TryRebalanceExperts(loads, W.Layers, W.Replicas, W.Groups, W.Nodes, W.Gpus,
            _physicalToLogical, _logicalToPhysical, _logicalReplicaCount, out int maxReplicaCount, options);
        return maxReplicaCount;
    }
}
