using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Eplb.Cli;

/// <summary>
/// <c>eplb analyze</c>: how well a placement in force serves some loads — per layer the GPU loads' maximum and mean,
/// balancedness, the lower bound and duplicates — and whether a fresh plan would be worth its copies.
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create(TextWriter stdout, TextReader stdin)
    {
        var weights = new Option<string>("--weights") { Description = "Loads [layers, experts] (as for rebalance), or - for JSON on standard input", Required = true };
        var step = new Option<int?>("--step") { Description = "The step to analyse, when --weights holds a series" };
        var plan = new Option<string>("--plan") { Description = "The placement: a JSON object with \"phy2log\" (ours, or a Python server's dump), a .npy of phy2log, or a .npz; -1 marks slots on unavailable GPUs", Required = true };
        var gpus = new Option<int>("--gpus", "--num-gpus") { Description = "GPUs in all: divides the plan's slots per layer", Required = true };
        var nodes = new Option<int>("--nodes", "--num-nodes") { Description = "Server nodes: divides --gpus", Required = true };
        var groups = new Option<int>("--groups", "--num-groups") { Description = "Expert groups, for the fresh plan of the verdict (default 1: the global policy)", DefaultValueFactory = _ => 1 };
        var minGain = new Option<double>("--min-gain") { Description = "The least gain in overall balancedness worth a migration (default 0.02)", DefaultValueFactory = _ => 0.02 };
        var format = new Option<string>("--format") { Description = "table (default) or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var cluster = new ClusterOptions();
        var command = new Command("analyze",
            "Judge a placement in force on some loads, and say whether a fresh plan is worth its copies.\n" +
            "GPUs whose slots are all -1 count as unavailable, and the fresh plan leaves them out too.\n\n" +
            "Examples:\n" +
            "  eplb analyze --weights loads.npy --plan plan.json --gpus 32 --nodes 4 --groups 8\n" +
            "  eplb analyze --weights loads.npy --plan phy2log.npy --gpus 32 --nodes 4 --format json")
        {
            weights, step, plan, gpus, nodes, groups, minGain, format, cluster.TieOrder, cluster.Algorithm,
        };
        command.SetAction(parsed =>
        {
            double threshold = parsed.GetValue(minGain);
            if (!(threshold >= 0 && threshold <= 1))
            {
                throw CliException.Usage($"--min-gain must be between 0 and 1, but is {threshold.ToString(CultureInfo.InvariantCulture)}");
            }

            LoadMatrix loads = LoadReader.Read(parsed.GetValue(weights)!, stdin).Pick(parsed.GetValue(step));
            Placement placement = PlacementReader.Read(parsed.GetValue(plan)!, "--plan");
            if (placement.Layers != loads.Layers)
            {
                throw CliException.BadData($"--plan {placement.Source}: phy2log has {placement.Layers} layers, the loads {loads.Layers}");
            }

            placement.ThrowIfNotFor(loads, placement.Slots, "--plan");
            int numGpus = parsed.GetValue(gpus), numNodes = parsed.GetValue(nodes);
            PlacementDiagnostics now = PlacementDiagnostics.Analyze(loads.Values, loads.Layers, placement.Values, numGpus, numNodes);

            var config = new ClusterConfig(placement.Slots, parsed.GetValue(groups), numNodes, numGpus, cluster.ReadTieOrder(parsed), UnavailableGpus(placement, numGpus), cluster.ReadAlgorithm(parsed));
            RebalancePlan fresh = ExpertLoadBalancer.RebalanceExperts(loads.Values, loads.Layers, config.Replicas, config.Groups, config.Nodes, config.Gpus, config.Options);
            RebalanceDecision decision = RebalanceDecision.Evaluate(loads.Values, placement.Values, PlanRelabelling.Relabel(fresh, placement.Values), threshold);
            LocalityCost? locality = LocalityCost.Of(loads, config);
            stdout.Write(parsed.GetValue(format) == "json" ? Json(placement, now, decision, locality) : Table(placement, loads, config, now, decision, locality));
            return 0;
        });
        return command;
    }

    // A GPU with every slot -1 in every layer is out of service.
    private static int[] UnavailableGpus(Placement placement, int gpus)
    {
        int perGpu = placement.Slots / gpus;
        var down = new List<int>();
        for (int g = 0; g < gpus; g++)
        {
            bool empty = true;
            for (int l = 0; l < placement.Layers && empty; l++)
            {
                empty = !placement.Values.AsSpan((l * placement.Slots) + (g * perGpu), perGpu).ContainsAnyExcept(-1);
            }

            if (empty)
            {
                down.Add(g);
            }
        }

        return [.. down];
    }

    private static string Table(Placement placement, LoadMatrix loads, ClusterConfig config, PlacementDiagnostics now, RebalanceDecision decision, LocalityCost? locality)
    {
        var sb = new StringBuilder();
        sb.AppendLine(Inv($"{placement.Source}: {loads.Layers} layers x {loads.Experts} experts, {placement.Slots} slots on {config.Gpus} GPUs in {config.Nodes} node{(config.Nodes == 1 ? "" : "s")}"));
        if (config.UnavailableGpus is { Length: > 0 } down)
        {
            sb.AppendLine(Inv($"unavailable GPUs (every slot -1): {string.Join(",", down)}"));
        }

        sb.AppendLine("balancedness = mean GPU load / max; LB = the lower bound no placement beats; dup = second replicas on one GPU.");
        sb.AppendLine();
        sb.AppendLine("layer  max GPU load  mean GPU load  balancedness  lower bound  max/LB  dup");
        IEnumerable<LayerDiagnostics> shown = now.Layers.Count <= 16 ? now.Layers : now.Layers.OrderBy(l => l.Balancedness).ThenBy(l => l.Layer).Take(10).OrderBy(l => l.Layer);
        foreach (LayerDiagnostics l in shown)
        {
            sb.AppendLine(Inv($"{l.Layer,5}  {l.MaxGpuLoad,12:0.###}  {l.MeanGpuLoad,13:0.###}  {l.Balancedness,12:F3}  {l.LowerBound,11:0.###}  {l.MaxOverLowerBound,6:F3}  {l.Duplicates,3}"));
        }

        if (now.Layers.Count > 16)
        {
            sb.AppendLine(Inv($"(10 least balanced of {now.Layers.Count} layers shown; --format json for all)"));
        }

        sb.AppendLine();
        sb.AppendLine(Inv($"overall balancedness {now.Balancedness:F3} (sum of mean GPU loads / sum of maxima)"));
        if (locality is not null)
        {
            sb.AppendLine(locality.Describe());
        }

        sb.AppendLine(Verdict(decision, config));
        return sb.ToString();
    }

    internal static string Verdict(RebalanceDecision d, ClusterConfig config)
    {
        string fresh = Inv($"a fresh plan ({config.Groups} group{(config.Groups == 1 ? "" : "s")}, {(config.Algorithm == RebalanceAlgorithm.Refined ? "refined" : ClusterOptions.Name(config.TieOrder) + " ties")}) reaches {d.BalancednessAfter:F3} ({d.Gain:+0.000;-0.000;0.000}, threshold {d.MinimumGain:0.000}) for {d.Copies} expert copies (unrelabelled: {d.Plan.Migration.FreshCopies})");
        return d.ShouldRebalance ? $"verdict: rebalance — {fresh}" : $"verdict: keep the plan in force — {fresh}";
    }

    private static string Json(Placement placement, PlacementDiagnostics now, RebalanceDecision d, LocalityCost? locality)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteString("plan", placement.Source);
            w.WriteStartArray("layers");
            foreach (LayerDiagnostics l in now.Layers)
            {
                w.WriteStartObject();
                w.WriteNumber("layer", l.Layer);
                w.WriteNumber("max_gpu_load", l.MaxGpuLoad);
                w.WriteNumber("mean_gpu_load", l.MeanGpuLoad);
                w.WriteNumber("balancedness", l.Balancedness);
                w.WriteNumber("lower_bound", l.LowerBound);
                w.WriteNumber("max_over_lower_bound", l.MaxOverLowerBound);
                w.WriteNumber("duplicates", l.Duplicates);
                if (locality is not null)
                {
                    w.WriteNumber("hierarchical_over_lower_bound", locality.Ratios[l.Layer]);
                }

                w.WriteNumber("available_gpus", l.AvailableGpus);
                WriteArray(w, "gpu_loads", l.GpuLoads);
                WriteArray(w, "node_loads", l.NodeLoads);
                w.WriteStartArray("replica_counts");
                foreach (int count in l.ReplicaCounts)
                {
                    w.WriteNumberValue(count);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("balancedness", now.Balancedness);
            if (locality is not null)
            {
                w.WriteNumber("locality_cost", locality.Mean);
            }

            w.WriteStartObject("verdict");
            w.WriteBoolean("rebalance", d.ShouldRebalance);
            w.WriteNumber("balancedness_now", d.BalancednessNow);
            w.WriteNumber("balancedness_after", d.BalancednessAfter);
            w.WriteNumber("gain", d.Gain);
            w.WriteNumber("min_gain", d.MinimumGain);
            w.WriteNumber("copies", d.Copies);
            w.WriteNumber("fresh_copies", d.Plan.Migration.FreshCopies);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteArray(Utf8JsonWriter w, string name, ReadOnlySpan<double> values)
    {
        w.WriteStartArray(name);
        foreach (double value in values)
        {
            w.WriteNumberValue(value);
        }

        w.WriteEndArray();
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
