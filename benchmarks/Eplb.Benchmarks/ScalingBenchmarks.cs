using BenchmarkDotNet.Attributes;

namespace Eplb.Benchmarks;

/// <summary>
/// How cost grows with experts, from 64 to 4096 (one layer, 12.5 % redundant slots, 9 slots per GPU, global):
/// time per expert should stay flat but for a log factor, with no quadratic term. Measured through
/// TryRebalanceExperts with reused buffers, so the figures are the algorithm's, not the garbage collector's.
/// </summary>
[MemoryDiagnoser]
public class ScalingBenchmarks
{
    private float[] _weights = [];
    private int[] _physicalToLogical = [], _logicalToPhysical = [], _logicalReplicaCount = [];
    private int _layers, _experts, _replicas, _gpus;

    [Params(64, 256, 1024, 4096)]
    public int Experts { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _layers = 1;
        _experts = Experts;
        _replicas = Experts + (Experts / 8);
        _gpus = _replicas / 9 * 9 == _replicas ? _replicas / 9 : _replicas / 8;
        while (_replicas % _gpus != 0)
        {
            _gpus--;
        }

        _weights = Workload.Generate(_layers, _experts);
        (_physicalToLogical, _logicalToPhysical, _logicalReplicaCount) = Buffers(_layers, _experts, _replicas);
    }

    [Benchmark]
    public int ByExperts()
    {
        ExpertLoadBalancer.TryRebalanceExperts(_weights, _layers, _replicas, 1, 1, _gpus, _physicalToLogical, _logicalToPhysical, _logicalReplicaCount, out int max);
        return max;
    }

    internal static (int[], int[], int[]) Buffers(int layers, int experts, int replicas) =>
        (new int[layers * replicas], new int[layers * experts * (replicas - experts + 1)], new int[layers * experts]);
}

/// <summary>Layers from 1 to 1000 at DeepSeek-V3's width, (288, 8, 4, 32): cost should grow linearly.</summary>
[MemoryDiagnoser]
public class LayerScalingBenchmarks
{
    private float[] _weights = [];
    private int[] _physicalToLogical = [], _logicalToPhysical = [], _logicalReplicaCount = [];

    [Params(1, 10, 100, 1000)]
    public int Layers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _weights = Workload.Generate(Layers, 256);
        (_physicalToLogical, _logicalToPhysical, _logicalReplicaCount) = ScalingBenchmarks.Buffers(Layers, 256, 288);
    }

    [Benchmark]
    public int ByLayers()
    {
        ExpertLoadBalancer.TryRebalanceExperts(_weights, Layers, 288, 8, 4, 32, _physicalToLogical, _logicalToPhysical, _logicalReplicaCount, out int max);
        return max;
    }
}
