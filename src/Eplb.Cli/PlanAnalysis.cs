namespace Eplb.Cli;

/// <summary>The cluster a plan is made for.</summary>
internal sealed record ClusterConfig(int Replicas, int Groups, int Nodes, int Gpus, TieOrder TieOrder = TieOrder.LibStdCxx)
{
    public int SlotsPerGpu => Replicas / Gpus;

    public int GpusPerNode => Gpus / Nodes;
}

/// <summary>One layer's balance: GPU load is the sum over its slots of <c>w[e] / count[e]</c>.</summary>
internal sealed record LayerStats(int Layer, double Before, double After, int BusiestGpu, double BusiestGpuLoad, double MeanGpuLoad, double BusiestGpuLoadBefore);

/// <summary>
/// What a plan does to the loads it was made from. Balancedness is mean GPU load / max GPU load (1.0 is perfect);
/// "before" places each expert once, in contiguous blocks per GPU, as a server does with no redundancy.
/// </summary>
internal sealed class PlanAnalysis
{
    public PlanAnalysis(LoadMatrix loads, RebalancePlan plan, ClusterConfig config)
    {
        Loads = loads;
        Plan = plan;
        Config = config;
        Layers = new LayerStats[loads.Layers];
        NodeTotals = new double[config.Nodes];
        var after = new double[config.Gpus];
        var before = new double[config.Gpus];
        for (int l = 0; l < loads.Layers; l++)
        {
            GpuLoadsBefore(loads.Layer(l), before);
            GpuLoadsAfter(l, after);
            int busiest = 0;
            for (int g = 1; g < after.Length; g++)
            {
                busiest = after[g] > after[busiest] ? g : busiest;
            }

            for (int g = 0; g < after.Length; g++)
            {
                NodeTotals[g / config.GpusPerNode] += after[g];
            }

            Layers[l] = new LayerStats(l, Balancedness(before), Balancedness(after), busiest, after[busiest], after.Average(), before.Max());
        }
    }

    public LoadMatrix Loads { get; }

    public RebalancePlan Plan { get; }

    public ClusterConfig Config { get; }

    public LayerStats[] Layers { get; }

    /// <summary>Load per node, summed over every layer, after rebalancing.</summary>
    public double[] NodeTotals { get; }

    public double MeanBefore => Layers.Average(s => s.Before);

    public double MeanAfter => Layers.Average(s => s.After);

    /// <summary>The load one replica carries: its expert's load split evenly over the expert's replicas.</summary>
    public double ReplicaLoad(int layer, int slot)
    {
        int expert = Plan.GetPhysicalToLogical(layer)[slot];
        return Loads.Layer(layer)[expert] / (double)Plan.GetLogicalReplicaCount(layer)[expert];
    }

    public static double Balancedness(ReadOnlySpan<double> gpuLoads)
    {
        double max = 0, sum = 0;
        foreach (double load in gpuLoads)
        {
            max = Math.Max(max, load);
            sum += load;
        }

        return max == 0 ? 1.0 : sum / gpuLoads.Length / max;
    }

    private void GpuLoadsAfter(int layer, Span<double> gpuLoads)
    {
        gpuLoads.Clear();
        for (int slot = 0; slot < Plan.NumPhysicalExperts; slot++)
        {
            gpuLoads[slot / Config.SlotsPerGpu] += ReplicaLoad(layer, slot);
        }
    }

    private static void GpuLoadsBefore(ReadOnlySpan<float> loads, Span<double> gpuLoads)
    {
        gpuLoads.Clear();
        for (int e = 0; e < loads.Length; e++)
        {
            gpuLoads[(int)((long)e * gpuLoads.Length / loads.Length)] += loads[e];
        }
    }
}
