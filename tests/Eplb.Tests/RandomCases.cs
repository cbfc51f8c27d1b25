namespace Eplb.Tests;

/// <summary>A random, valid configuration and its loads.</summary>
internal sealed record RandomCase(float[,] Weights, int NumReplicas, int NumGroups, int NumNodes, int NumGpus)
{
    public override string ToString() =>
        $"[{Weights.GetLength(0)}x{Weights.GetLength(1)}] replicas={NumReplicas} groups={NumGroups} nodes={NumNodes} gpus={NumGpus}";
}

/// <summary>Random configurations from a fixed seed, heavy on ties: small integers, zeros and repeated values.</summary>
internal static class RandomCases
{
    public static RandomCase Next(Random random)
    {
        int nodes = random.Next(1, 5);
        int gpus = nodes * random.Next(1, 7);
        // One node divides every group count, so the global policy needs at least two nodes.
        bool hierarchical = nodes == 1 || random.Next(3) > 0;
        int groups = hierarchical ? nodes * random.Next(1, 4) : NonMultiple(random, nodes);
        int experts = hierarchical ? groups * random.Next(1, 9) : random.Next(1, 60);
        int slotsPerGpu = ((experts + gpus - 1) / gpus) + random.Next(0, 4);
        int layers = random.Next(1, 4);
        return new RandomCase(Loads(random, layers, experts), gpus * slotsPerGpu, groups, nodes, gpus);
    }

    public static float[,] Loads(Random random, int layers, int experts)
    {
        var w = new float[layers, experts];
        int kind = random.Next(5);
        for (int l = 0; l < layers; l++)
        {
            for (int e = 0; e < experts; e++)
            {
                w[l, e] = kind switch
                {
                    0 => random.Next(0, 4),                              // many exact ties
                    1 => 0f,                                             // every value tied
                    2 => random.Next(0, 1000),                           // integers, some ties
                    3 => random.Next(10) == 0 ? random.Next(1000, 5000) : random.Next(0, 50), // hot experts
                    _ => random.Next(0, 8000) / 8f,                      // dyadic fractions
                };
            }
        }

        return w;
    }

    private static int NonMultiple(Random random, int nodes)
    {
        int g;
        do
        {
            g = random.Next(1, 17);
        }
        while (g % nodes == 0);
        return g;
    }
}
