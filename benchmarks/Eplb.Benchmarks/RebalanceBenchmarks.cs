using BenchmarkDotNet.Attributes;

namespace Eplb.Benchmarks;

/// <summary>
/// RebalanceExperts on the model shapes of docs/load-model.md (V3: DeepSeek-V3, 58 layers x 256 experts, 8 groups;
/// Qwen3: 94 x 128, no groups; Kimi: Kimi-K2, 60 x 384, no groups; (replicas, groups, nodes, gpus) in brackets), against the part no exact implementation can skip:
/// sorting every row of the same matrix with the reference sort (the baseline, in the same run).
/// </summary>
/// <remarks>
/// <c>FreshLoads = false</c> calls with one load matrix every time, as eplb.py's figures were taken; the branch
/// predictor then learns much of the sort's comparisons, which flatters the sort-only baseline most.
/// <c>FreshLoads = true</c> rotates through 16 matrices, as a server that never sees the same loads twice; each row
/// is compared with the baseline on the same footing.
/// </remarks>
[MemoryDiagnoser]
public class RebalanceBenchmarks
{
    private int[] _physicalToLogical = [];
    private int[] _logicalToPhysical = [];
    private int[] _logicalReplicaCount = [];
    private SortKey[] _keys = [];
    private RebalanceOptions _allCores = RebalanceOptions.Default;

    public static IEnumerable<Workload> Workloads() =>
    [
        .. Workload.DeepSeekV3(),
        Workload.Create("Qwen3 (160,1,4,32)", 94, 128, 160, 1, 4, 32),
        Workload.Create("Kimi (448,1,8,64)", 60, 384, 448, 1, 8, 64),
    ];

    private int _next;

    [ParamsSource(nameof(Workloads))]
    public Workload W { get; set; } = null!;

    [Params(false, true)]
    public bool FreshLoads { get; set; }

    // The loads for this call: always the same matrix, or the next of the rotation.
    private float[] Loads() => FreshLoads ? W.FreshWeights[_next++ % Workload.FreshCount] : W.Weights;

    [GlobalSetup]
    public void Setup()
    {
        _physicalToLogical = new int[W.Layers * W.Replicas];
        _logicalToPhysical = new int[W.Layers * W.Experts * (W.Replicas - W.Experts + 1)];
        _logicalReplicaCount = new int[W.Layers * W.Experts];
        _keys = new SortKey[W.Experts];
        _allCores = new RebalanceOptions { MaxDegreeOfParallelism = -1 };
        _ = FreshLoads ? W.FreshWeights.Length : W.Weights.Length; // generated here, not in the first measured call
    }

    /// <summary>torch.sort(descending=True) of every row: what eplb.py's balanced_packing must at least do.</summary>
    [Benchmark(Baseline = true)]
    public ulong SortEveryRow()
    {
        ulong check = 0;
        ReadOnlySpan<float> weights = Loads();
        for (int layer = 0; layer < W.Layers; layer++)
        {
            SortKey.CreateRow(weights.Slice(layer * W.Experts, W.Experts), _keys);
            LibStdCxxSort.SortDescending(_keys);
            check += _keys[0].Bits;
        }

        return check;
    }

    /// <summary>The allocating overload: the plan's arrays are all it allocates.</summary>
    [Benchmark]
    public RebalancePlan Rebalance() =>
        ExpertLoadBalancer.RebalanceExperts(Loads(), W.Layers, W.Replicas, W.Groups, W.Nodes, W.Gpus);

    /// <summary>Into caller buffers sized for the worst case: allocates nothing.</summary>
    [Benchmark]
    public int TryRebalance()
    {
        ExpertLoadBalancer.TryRebalanceExperts(Loads(), W.Layers, W.Replicas, W.Groups, W.Nodes, W.Gpus,
            _physicalToLogical, _logicalToPhysical, _logicalReplicaCount, out int maxReplicaCount);
        return maxReplicaCount;
    }

    /// <summary>Layers spread over every core (RebalanceOptions.MaxDegreeOfParallelism = -1); same plan.</summary>
    [Benchmark]
    public RebalancePlan RebalanceAllCores() =>
        ExpertLoadBalancer.RebalanceExperts(Loads(), W.Layers, W.Replicas, W.Groups, W.Nodes, W.Gpus, _allCores);
}
