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
        float[,] w = ExpertLoadGenerator.Generate(layers, experts, seed: 1);
        Weights = new float[w.Length];
        Buffer.BlockCopy(w, 0, Weights, 0, Weights.Length * sizeof(float));
    }

    public string Name { get; }

    public int Layers { get; }

    public int Experts { get; }

    public int Replicas { get; }

    public int Groups { get; }

    public int Nodes { get; }

    public int Gpus { get; }

    public float[] Weights { get; }

    public static Workload Create(string name, int layers, int experts, int replicas, int groups, int nodes, int gpus) =>
        new(name, layers, experts, replicas, groups, nodes, gpus);

    // BenchmarkDotNet prints parameters with ToString: make the table say what each row is.
    public override string ToString() => Name;
}
