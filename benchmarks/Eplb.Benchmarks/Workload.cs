using Eplb.Workloads;

namespace Eplb.Benchmarks;

/// <summary>A model shape and a cluster, with fixed-seed calibrated loads (ExpertLoadGenerator, seed 1).</summary>
public sealed class Workload
{
    private Workload(string name, int layers, int experts, int replicas, int groups, int nodes, int gpus)
    {
        Name = name;
        Layers = layers;
        Experts = experts;
        Replicas = replicas;
        Groups = groups;
        Nodes = nodes;
        Gpus = gpus;
        _weights = new Lazy<float[]>(() => Generate(layers, experts));
        _freshWeights = new Lazy<float[][]>(() => [.. Enumerable.Range(1, FreshCount).Select(seed => Generate(layers, experts, seed))]);
    }

    // Made on first use: each benchmark process needs one of the two, and generating loads dominates a dry run.
    private readonly Lazy<float[]> _weights;
    private readonly Lazy<float[][]> _freshWeights;

    /// <summary>How many different load matrices the fresh-loads rows rotate through.</summary>
    public const int FreshCount = 16;

    public string Name { get; }

    public int Layers { get; }

    public int Experts { get; }

    public int Replicas { get; }

    public int Groups { get; }

    public int Nodes { get; }

    public int Gpus { get; }

    /// <summary>One load matrix (seed 1), used for every call.</summary>
    public float[] Weights => _weights.Value;

    /// <summary>Matrices from seeds 1..16, for calls that should not see the same loads twice in a row.</summary>
    public float[][] FreshWeights => _freshWeights.Value;

    public static Workload Create(string name, int layers, int experts, int replicas, int groups, int nodes, int gpus) =>
        new(name, layers, experts, replicas, groups, nodes, gpus);

    /// <summary>DeepSeek-V3's 58 × 256 on the four clusters of the issues: two hierarchical, two global.</summary>
    public static IEnumerable<Workload> DeepSeekV3() =>
    [
        Create("V3 (288,8,4,32)", 58, 256, 288, 8, 4, 32),
        Create("V3 (320,8,8,64)", 58, 256, 320, 8, 8, 64),
        Create("V3 (288,8,18,144)", 58, 256, 288, 8, 18, 144),
        Create("V3 (320,8,40,320)", 58, 256, 320, 8, 40, 320),
    ];

    /// <summary>Calibrated loads, row-major.</summary>
    public static float[] Generate(int layers, int experts, int seed = 1)
    {
        float[,] w = ExpertLoadGenerator.Generate(layers, experts, seed);
        var flat = new float[w.Length];
        Buffer.BlockCopy(w, 0, flat, 0, flat.Length * sizeof(float));
        return flat;
    }

    // BenchmarkDotNet prints parameters with ToString: make the table say what each row is.
    public override string ToString() => Name;
}
