using BenchmarkDotNet.Attributes;

namespace Eplb.Benchmarks;

/// <summary>
/// How cost grows: experts from 64 to 4096 (one layer, 12.5 % redundant slots, 8 slots per GPU, global), and
/// layers from 1 to 1000 (256 experts, 288 slots on 32 GPUs). Time per expert (or per layer) should stay flat
/// but for a log factor: no quadratic term.
/// </summary>
[MemoryDiagnoser]
public class ScalingBenchmarks
{
    private float[] _weights = [];
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

        float[,] w = ExpertLoadGenerator.Generate(_layers, _experts, seed: 1);
        _weights = new float[w.Length];
        Buffer.BlockCopy(w, 0, _weights, 0, _weights.Length * sizeof(float));
    }

    [Benchmark]
    public RebalancePlan ByExperts() => ExpertLoadBalancer.RebalanceExperts(_weights, _layers, _replicas, 1, 1, _gpus);
}

/// <summary>Layers from 1 to 1000 at DeepSeek-V3's width: cost should grow linearly.</summary>
[MemoryDiagnoser]
public class LayerScalingBenchmarks
{
    private float[] _weights = [];

    [Params(1, 10, 100, 1000)]
    public int Layers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        float[,] w = ExpertLoadGenerator.Generate(Layers, 256, seed: 1);
        _weights = new float[w.Length];
        Buffer.BlockCopy(w, 0, _weights, 0, _weights.Length * sizeof(float));
    }

    [Benchmark]
    public RebalancePlan ByLayers() => ExpertLoadBalancer.RebalanceExperts(_weights, Layers, 288, 8, 4, 32);
}
