namespace Eplb.Cli;

/// <summary>The cluster a plan is made for.</summary>
internal sealed record ClusterConfig(int Replicas, int Groups, int Nodes, int Gpus, TieOrder TieOrder = TieOrder.LibStdCxx, int[]? UnavailableGpus = null,
    RebalanceAlgorithm Algorithm = RebalanceAlgorithm.Reference)
{
    public int SlotsPerGpu => Replicas / Gpus;

    public int GpusPerNode => Gpus / Nodes;

    public RebalanceOptions Options => new() { TieOrder = TieOrder, UnavailableGpus = UnavailableGpus ?? [], Algorithm = Algorithm };
}

/// <summary>One layer's balance: GPU load is the sum over its slots of <c>w[e] / count[e]</c>.</summary>
internal sealed record LayerStats(int Layer, double Before, double After, int BusiestGpu, double BusiestGpuLoad, double MeanGpuLoad, double BusiestGpuLoadBefore,
    double LowerBound, int Duplicates)
{
    /// <summary>Max GPU load over the lower bound no placement can beat: 1.0 cannot be improved on.</summary>
    public double MaxOverLowerBound => LowerBound == 0 ? 1.0 : BusiestGpuLoad / LowerBound;
}

/// <summary>
/// What a plan does to the loads it was made from: the library's <see cref="PlacementDiagnostics"/> per layer, and a
/// "before" that places each expert once, in contiguous blocks per GPU, as a server does with no redundancy.
/// Balancedness is mean GPU load / max GPU load (1.0 is perfect).
/// </summary>
internal sealed class PlanAnalysis
{
    public PlanAnalysis(LoadMatrix loads, RebalancePlan plan, ClusterConfig config, PlanMigration? migration = null)
    {
        Loads = loads;
        Plan = plan;
        Config = config;
        Migration = migration;
        Diagnostics = PlacementDiagnostics.Analyze(loads.Values, plan);
        Locality = LocalityCost.Of(loads, config);
        Layers = new LayerStats[loads.Layers];
        NodeTotals = new double[config.Nodes];
        var before = new double[config.Gpus];
        for (int l = 0; l < loads.Layers; l++)
        {
            GpuLoadsBefore(loads.Layer(l), before);
            LayerDiagnostics after = Diagnostics.Layers[l];
            ReadOnlySpan<double> gpuLoads = after.GpuLoads;
            int busiest = gpuLoads.IndexOf(after.MaxGpuLoad);
            for (int n = 0; n < config.Nodes; n++)
            {
                NodeTotals[n] += after.NodeLoads[n];
            }

            Layers[l] = new LayerStats(l, Balancedness(before), after.Balancedness, busiest, after.MaxGpuLoad, after.MeanGpuLoad, before.Max(),
                after.LowerBound, after.Duplicates);
        }
    }

    public LoadMatrix Loads { get; }

    public RebalancePlan Plan { get; }

    public ClusterConfig Config { get; }

    /// <summary>The copies from the placement in force (<c>--previous</c>), if one was given.</summary>
    public PlanMigration? Migration { get; }

    /// <summary>Under <c>--max-copies</c>: what a fresh plan, unrelabelled, would have copied.</summary>
    public int? FreshCopies { get; init; }

    /// <summary>The copy budget per layer (<c>--max-copies</c>), if any.</summary>
    public int? MaxCopiesPerLayer { get; init; }

    /// <summary>The fresh plan's copies: given, or the migration's own.</summary>
    public int FreshCopiesOrDefault => FreshCopies ?? Migration?.FreshCopies ?? 0;

    public PlacementDiagnostics Diagnostics { get; }

    /// <summary>LB_hier / LB per layer, where the hierarchical policy could apply.</summary>
    public LocalityCost? Locality { get; }

    public LayerStats[] Layers { get; }

    /// <summary>Load per node, summed over every layer, after rebalancing.</summary>
    public double[] NodeTotals { get; }

    public double MeanBefore => Layers.Average(s => s.Before);

    public double MeanAfter => Layers.Average(s => s.After);

    /// <summary>The load one replica carries: its expert's load split evenly over the expert's replicas; 0 on an unavailable GPU.</summary>
    public double ReplicaLoad(int layer, int slot)
    {
        int expert = Plan.GetPhysicalToLogical(layer)[slot];
        return expert < 0 ? 0 : Loads.Layer(layer)[expert] / (double)Plan.GetLogicalReplicaCount(layer)[expert];
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

    private static void GpuLoadsBefore(ReadOnlySpan<float> loads, Span<double> gpuLoads)
    {
        gpuLoads.Clear();
        for (int e = 0; e < loads.Length; e++)
        {
            gpuLoads[(int)((long)e * gpuLoads.Length / loads.Length)] += loads[e];
        }
    }
}
