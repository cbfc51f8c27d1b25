namespace Eplb.Cli;

/// <summary>
/// What keeping expert groups within nodes costs on some loads: per layer <c>LB_hier / LB</c>, the hierarchical
/// policy's lower bound over the global one (docs/load-model.md). 1.0: locality is free on these loads.
/// </summary>
internal sealed class LocalityCost
{
    private LocalityCost(double[] ratios)
    {
        Ratios = ratios;
    }

    /// <summary>Per layer, <c>LB_hier / LB</c>.</summary>
    public double[] Ratios { get; }

    public double Mean => Ratios.Average();

    public double Worst => Ratios.Max();

    /// <summary>The cost for a cluster where the hierarchical policy could apply (several nodes dividing the groups); else null.</summary>
    public static LocalityCost? Of(LoadMatrix loads, ClusterConfig c)
    {
        if (c.Nodes < 2 || c.Groups % c.Nodes != 0 || loads.Experts % c.Groups != 0 || c.UnavailableGpus is { Length: > 0 })
        {
            return null;
        }

        var ratios = new double[loads.Layers];
        for (int l = 0; l < loads.Layers; l++)
        {
            double global = LoadBounds.LowerBound(loads.Layer(l), c.Replicas, c.Gpus);
            double hierarchical = LoadBounds.HierarchicalLowerBound(loads.Layer(l), c.Replicas, c.Groups, c.Nodes, c.Gpus);
            ratios[l] = global == 0 ? 1.0 : hierarchical / global;
        }

        return new LocalityCost(ratios);
    }

    /// <summary>One line for the tables.</summary>
    public string Describe() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"LB_hier/LB {Mean:F3} mean, {Worst:F3} worst: what keeping groups within nodes costs");
}
