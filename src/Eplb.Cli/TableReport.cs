using System.Globalization;
using System.Text;

namespace Eplb.Cli;

/// <summary>A human summary at 80 columns: per-layer balance, the busiest GPU, the hottest experts, node totals.</summary>
internal static class TableReport
{
    private const int AllLayersUpTo = 16;
    private const int WorstLayersShown = 10;

    public static string Render(PlanAnalysis a)
    {
        var sb = new StringBuilder();
        ClusterConfig c = a.Config;
        sb.AppendLine(Inv($"{a.Loads.Layers} layers x {a.Loads.Experts} experts -> {c.Replicas} replicas on {c.Gpus} GPUs in {c.Nodes} node{(c.Nodes == 1 ? "" : "s")}"));
        sb.AppendLine(Inv($"{c.Groups} expert group{(c.Groups == 1 ? "" : "s")}; {Policy(a.Plan.Policy)} policy; {Algorithm(c)}."));
        sb.AppendLine("Balancedness = mean GPU load / max GPU load per layer (1.0 is perfect);");
        sb.AppendLine("before = one replica per expert, in contiguous blocks per GPU.");
        sb.AppendLine();

        IEnumerable<LayerStats> shown = a.Layers.Length <= AllLayersUpTo
            ? a.Layers
            : a.Layers.OrderBy(s => s.After).ThenBy(s => s.Layer).Take(WorstLayersShown).OrderBy(s => s.Layer);
        sb.AppendLine("layer  before  after  max/LB  dup  busiest (load)  hottest: id load x replicas");
        foreach (LayerStats s in shown)
        {
            string gpu = Inv($"gpu{s.BusiestGpu} ({Count(s.BusiestGpuLoad)})");
            sb.AppendLine(Inv($"{s.Layer,5}  {s.Before,6:F3}  {s.After,5:F3}  {s.MaxOverLowerBound,6:F3}  {s.Duplicates,3}  {gpu,-14}  {Hottest(a, s.Layer, 2)}"));
        }

        if (a.Layers.Length > AllLayersUpTo)
        {
            sb.AppendLine(Inv($"({WorstLayersShown} least balanced of {a.Layers.Length} layers shown; --format json or csv for all)"));
        }

        sb.AppendLine();
        sb.AppendLine(Inv($"mean over layers   before {a.MeanBefore:F3}   after {a.MeanAfter:F3}   worst after {a.Layers.Min(s => s.After):F3}"));
        sb.AppendLine(Inv($"overall balancedness {a.Diagnostics.Balancedness:F3} (sum of mean GPU loads / sum of maxima)"));
        sb.AppendLine(Inv($"max/LB worst {a.Layers.Max(s => s.MaxOverLowerBound):F3} (max GPU load / the lower bound no placement beats)"));
        sb.AppendLine(Inv($"dup {a.Layers.Sum(s => s.Duplicates)} in all (slots holding a second replica of an expert on one GPU)"));
        if (a.Locality is LocalityCost locality)
        {
            sb.AppendLine(locality.Describe());
        }

        if (a.Migration is PlanMigration m && a.MaxCopiesPerLayer is int budget)
        {
            sb.AppendLine(Inv($"budgeted migration from --previous: {m.Copies} expert copies (at most {budget} per layer)"));
            sb.AppendLine(Inv($"  (a fresh plan as it stands would take {a.FreshCopiesOrDefault})"));
        }
        else if (a.Migration is PlanMigration relabelled)
        {
            sb.AppendLine(Inv($"migration from --previous: {relabelled.Copies} expert copies"));
            sb.AppendLine(Inv($"  (the fresh plan as it stands would take {relabelled.FreshCopies}: relabelling saves {Saved(relabelled):F1}%)"));
        }
        double total = a.NodeTotals.Sum();
        sb.Append("node load, all layers:");
        for (int n = 0; n < a.NodeTotals.Length; n++)
        {
            sb.Append(n % 3 == 0 ? "\n " : "  ").Append(Inv($" node{n} {Count(a.NodeTotals[n]),6} ({100 * a.NodeTotals[n] / Math.Max(total, double.Epsilon),4:F1}%)"));
        }

        sb.AppendLine();
        return sb.ToString();
    }

    internal static double Saved(PlanMigration m) => m.FreshCopies == 0 ? 0 : 100.0 * (m.FreshCopies - m.Copies) / m.FreshCopies;

    internal static string Algorithm(ClusterConfig c) => c.Algorithm == RebalanceAlgorithm.Refined
        ? "refined algorithm"
        : Inv($"reference algorithm, {ClusterOptions.Name(c.TieOrder)} ties");

    internal static string Policy(RebalancePolicy policy) => policy == RebalancePolicy.Hierarchical ? "hierarchical" : "global";

    private static string Hottest(PlanAnalysis a, int layer, int count)
    {
        ReadOnlySpan<float> loads = a.Loads.Layer(layer);
        ReadOnlySpan<int> replicas = a.Plan.GetLogicalReplicaCount(layer);
        var order = Enumerable.Range(0, loads.Length).ToArray();
        float[] copy = loads.ToArray();
        Array.Sort(order, (x, y) => copy[y].CompareTo(copy[x]) != 0 ? copy[y].CompareTo(copy[x]) : x.CompareTo(y));
        var sb = new StringBuilder();
        foreach (int e in order.Take(count))
        {
            sb.Append(Inv($"e{e} {Count(loads[e])}x{replicas[e]}  "));
        }

        return sb.ToString().TrimEnd();
    }

    private static string Count(double value) =>
        value >= 1e6 ? Inv($"{value / 1e6:0.0}M") : value >= 1e4 ? Inv($"{value / 1e3:0.0}k") : Inv($"{value:0}");

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
