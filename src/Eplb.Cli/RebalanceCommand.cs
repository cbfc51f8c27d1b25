using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Eplb.Cli;

/// <summary><c>eplb rebalance</c>: a plan from a load dump, as a table, the reference's JSON, CSV rows or an SVG.</summary>
internal static class RebalanceCommand
{
    public static Command Create(TextWriter stdout, TextReader stdin)
    {
        var weights = new Option<string>("--weights") { Description = "Loads [layers, experts]: .json (2-D array, or an object with \"weights\"), .csv (one layer per line), .npy (float32/float64/int32/int64), or - for JSON on standard input; a series (eplb generate --steps) with --step", Required = true };
        var step = new Option<int?>("--step") { Description = "The step to plan, when --weights holds a series of load windows" };
        var cluster = new ClusterOptions();
        var format = new Option<string?>("--format") { Description = "table, json (phy2log, log2phy, logcnt as the reference returns them, plus statistics), csv (one row per slot), npy (phy2log, int64) or npz (all three, int64); default: from the --output extension, else table" };
        format.AcceptOnlyFromAmong(PlanFormats.Names);
        var output = new Option<string?>("--output") { Description = "Write the plan to this file (- for standard output) instead of printing it; devices, FIFOs and links are written through" };
        var svg = new Option<string?>("--svg") { Description = "Also draw the placement as an SVG picture" };
        var layers = new Option<string?>("--layers") { Description = "Layers to draw in the SVG, such as 0-3 or 0,5,9 (default: the first 4)" };
        var maxCopies = new Option<int?>("--max-copies") { Description = "With --previous: budgeted migration — the best plan the search reaches from the placement in force copying at most this many expert weights per layer (instead of a fresh plan relabelled)" };
        var previous = new Option<string?>("--previous") { Description = "The placement in force: a JSON object with \"phy2log\" (ours, or a Python server's dump), a .npy of phy2log, or a .npz; the plan is relabelled to copy as few expert weights as possible, and JSON output gains \"migration\"" };

        var command = new Command("rebalance",
            "Plan a placement from a load dump.\n\n" +
            "Examples:\n" +
            "  eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32\n" +
            "  eplb rebalance --weights loads.json --replicas 16 --groups 4 --nodes 2 --gpus 8 --output plan.json\n" +
            "  eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32 --tie-order avx512 --output plan.npz\n" +
            "  eplb rebalance --weights new.npy --previous plan.json --replicas 288 --groups 8 --nodes 4 --gpus 32 --output next.json\n" +
            "  eplb rebalance --weights new.npy --previous plan.json --max-copies 64 --replicas 288 --groups 8 --nodes 4 --gpus 32 --output next.json\n" +
            "  eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32 --algorithm refined\n" +
            "  eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32 --unavailable-gpus 3,17\n" +
            "  cat loads.json | eplb rebalance --weights - --replicas 16 --groups 4 --nodes 2 --gpus 8 --svg plan.svg --layers 0-1")
        {
            weights, step, previous, maxCopies, format, output, svg, layers,
        };
        cluster.AddTo(command);
        command.SetAction(parsed =>
        {
            // Everything the command line alone decides is checked before the loads are read.
            string source = parsed.GetValue(weights)!;
            ClusterConfig config = cluster.Read(parsed);
            ToolLimits.ThrowIfTooLarge(config.Replicas, layers: 1);
            string? layerRange = parsed.GetValue(layers);
            string? svgPath = parsed.GetValue(svg);
            if (layerRange is not null && svgPath is null)
            {
                throw CliException.Usage("--layers picks the layers to draw; it needs --svg");
            }

            int? budget = parsed.GetValue(maxCopies);
            if (budget is int k && (k < 0 || parsed.GetValue(previous) is null || config.UnavailableGpus is { Length: > 0 }))
            {
                throw CliException.Usage(k < 0 ? $"--max-copies must be 0 or more, but is {k}"
                    : parsed.GetValue(previous) is null ? "--max-copies budgets the migration from --previous; give the placement in force with --previous"
                    : "--max-copies does not combine with --unavailable-gpus: budgeted migration moves replicas among available GPUs only");
            }

            var files = new OutputFiles();
            string? outputPath = parsed.GetValue(output);
            OutputTarget? planTarget = outputPath is null ? null : files.Claim(outputPath, "--output");
            OutputTarget? svgTarget = svgPath is null ? null : files.Claim(svgPath, "--svg");
            PlanFormat planFormat = PlanFormats.Choose(parsed.GetValue(format), planTarget);

            LoadMatrix loads = LoadReader.Read(source, stdin).Pick(parsed.GetValue(step));
            ToolLimits.ThrowIfTooLarge(config.Replicas, loads.Layers);
            IReadOnlyList<int>? drawn = svgPath is null ? null : ParseLayers(layerRange, loads.Layers);
            Placement? inForce = parsed.GetValue(previous) is string previousPath ? PlacementReader.Read(previousPath, "--previous") : null;
            inForce?.ThrowIfNotFor(loads, config.Replicas, "--previous");
            RebalancePlan plan;
            try
            {
                plan = ExpertLoadBalancer.RebalanceExperts(loads.Values, loads.Layers, config.Replicas, config.Groups, config.Nodes, config.Gpus, config.Options);
            }
            catch (ArgumentException e) when (e.ParamName == "weight")
            {
                throw CliException.BadData($"{(source == "-" ? "<stdin>" : source)}: {e.Message.Split(" (Parameter")[0]}");
            }

            PlanMigration? migration = null;
            int? freshCopies = null;
            if (inForce is not null && budget is int copies)
            {
                freshCopies = PlanMigration.Between(inForce.Values, plan).Copies;
                RelabelledPlan budgeted = BudgetedRebalance.RebalanceExperts(loads.Values, loads.Layers, inForce.Values, config.Replicas, config.Groups, config.Nodes, config.Gpus, copies);
                (plan, migration) = (budgeted.Plan, budgeted.Migration);
            }
            else if (inForce is not null)
            {
                RelabelledPlan relabelled = PlanRelabelling.Relabel(plan, inForce.Values);
                (plan, migration) = (relabelled.Plan, relabelled.Migration);
            }

            var analysis = new PlanAnalysis(loads, plan, config, migration) { FreshCopies = freshCopies, MaxCopiesPerLayer = budget };
            byte[] rendered = Render(analysis, planFormat);
            if (planTarget is not null)
            {
                files.Set(planTarget, rendered);
            }

            if (svgTarget is not null)
            {
                files.Set(svgTarget, Encoding.UTF8.GetBytes(SvgReport.Render(analysis, drawn!)));
            }

            files.Commit(stdout);
            if (planTarget is null)
            {
                stdout.Write(Encoding.UTF8.GetString(rendered));
            }
            else if (planTarget.IsFile)
            {
                string moves = migration is null ? "" : $"; {migration.Copies} expert copies from --previous (fresh plan: {analysis.FreshCopiesOrDefault})";
                stdout.WriteLine($"wrote the plan ({plan.NumLayers} layers, {TableReport.Policy(plan.Policy)} policy, {PlanFormats.Name(planFormat)}) to {planTarget.Path}{moves}");
            }

            if (svgTarget is not null && svgTarget.IsFile)
            {
                stdout.WriteLine($"drew layers {string.Join(",", drawn!)} to {svgTarget.Path}");
            }

            return 0;
        });
        return command;
    }

    private static byte[] Render(PlanAnalysis analysis, PlanFormat format)
    {
        RebalancePlan plan = analysis.Plan;
        return format switch
        {
            PlanFormat.Json => Encoding.UTF8.GetBytes(JsonReport.Render(analysis)),
            PlanFormat.Csv => Encoding.UTF8.GetBytes(CsvReport.Render(analysis)),
            PlanFormat.Npy => NpyFile.Int64([plan.NumLayers, plan.NumPhysicalExperts], Flattening.Flat(plan.PhysicalToLogical)),
            PlanFormat.Npz => NpyFile.Archive(
            [
                ("phy2log", NpyFile.Int64([plan.NumLayers, plan.NumPhysicalExperts], Flattening.Flat(plan.PhysicalToLogical))),
                ("log2phy", NpyFile.Int64([plan.NumLayers, plan.NumLogicalExperts, plan.MaxReplicaCount], Flattening.Flat(plan.LogicalToPhysical))),
                ("logcnt", NpyFile.Int64([plan.NumLayers, plan.NumLogicalExperts], Flattening.Flat(plan.LogicalReplicaCount))),
            ]),
            _ => Encoding.UTF8.GetBytes(TableReport.Render(analysis)),
        };
    }

    /// <summary>"0-3", "0,5,9" or "7"; by default the first four layers.</summary>
    internal static IReadOnlyList<int> ParseLayers(string? text, int layerCount)
    {
        if (text is null)
        {
            return Enumerable.Range(0, Math.Min(4, layerCount)).ToArray();
        }

        var result = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            string[] bounds = part.Split('-', StringSplitOptions.TrimEntries);
            if (bounds.Length is < 1 or > 2 || !bounds.All(b => int.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                throw CliException.Usage($"--layers: '{part}' is not a layer or a range such as 0-3");
            }

            int first = int.Parse(bounds[0], CultureInfo.InvariantCulture);
            int last = int.Parse(bounds[^1], CultureInfo.InvariantCulture);
            if (first > last)
            {
                throw CliException.Usage($"--layers: '{part}' runs backwards; write the lower layer first, such as {last}-{first}");
            }

            if (last >= layerCount)
            {
                throw CliException.Usage($"--layers: '{part}' is outside layers 0-{layerCount - 1}");
            }

            for (int l = first; l <= last; l++)
            {
                if (!result.Contains(l))
                {
                    result.Add(l);
                }
            }
        }

        return result;
    }
}
