using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Eplb.Cli;

/// <summary><c>eplb rebalance</c>: a plan from a load dump, as a table, the reference's JSON, CSV rows or an SVG.</summary>
internal static class RebalanceCommand
{
    public static Command Create(TextWriter stdout, TextReader stdin)
    {
        var weights = new Option<string>("--weights") { Description = "Loads [layers, experts]: .json (2-D array, or an object with \"weights\"), .csv (one layer per line), .npy (float32/float64/int32/int64), or - for JSON on standard input", Required = true };
        var cluster = new ClusterOptions();
        var format = new Option<string>("--format") { Description = "table (default), json (phy2log, log2phy, logcnt as the reference returns them, plus statistics) or csv (one row per slot)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "csv");
        var output = new Option<string?>("--output") { Description = "Write the plan to this file instead of standard output" };
        var svg = new Option<string?>("--svg") { Description = "Also draw the placement as an SVG picture" };
        var layers = new Option<string?>("--layers") { Description = "Layers to draw in the SVG, such as 0-3 or 0,5,9 (default: the first 4)" };

        var command = new Command("rebalance",
            "Plan a placement from a load dump.\n\n" +
            "Examples:\n" +
            "  eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32\n" +
            "  eplb rebalance --weights loads.json --replicas 16 --groups 4 --nodes 2 --gpus 8 --format json --output plan.json\n" +
            "  eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32 --tie-order avx512\n" +
            "  cat loads.json | eplb rebalance --weights - --replicas 16 --groups 4 --nodes 2 --gpus 8 --svg plan.svg --layers 0-1")
        {
            weights, format, output, svg, layers,
        };
        cluster.AddTo(command);
        command.SetAction(parsed =>
        {
            string source = parsed.GetValue(weights)!;
            ClusterConfig config = cluster.Read(parsed);
            string? svgPath = parsed.GetValue(svg);
            string? layerRange = parsed.GetValue(layers);
            if (layerRange is not null && svgPath is null)
            {
                throw CliException.Usage("--layers picks the layers to draw; it needs --svg");
            }

            LoadMatrix loads = LoadReader.Read(source, stdin);
            IReadOnlyList<int>? drawn = svgPath is null ? null : ParseLayers(layerRange, loads.Layers);
            RebalancePlan plan;
            try
            {
                plan = ExpertLoadBalancer.RebalanceExperts(loads.Values, loads.Layers, config.Replicas, config.Groups, config.Nodes, config.Gpus,
                    new RebalanceOptions { TieOrder = config.TieOrder });
            }
            catch (ArgumentException e) when (e.ParamName == "weight")
            {
                throw CliException.BadData($"{(source == "-" ? "<stdin>" : source)}: {e.Message.Split(" (Parameter")[0]}");
            }

            var analysis = new PlanAnalysis(loads, plan, config);
            string rendered = parsed.GetValue(format) switch
            {
                "json" => JsonReport.Render(analysis),
                "csv" => CsvReport.Render(analysis),
                _ => TableReport.Render(analysis),
            };

            var files = new OutputFiles();
            string? outputPath = parsed.GetValue(output);
            if (outputPath is not null)
            {
                files.Add(outputPath, Encoding.UTF8.GetBytes(rendered));
            }

            if (svgPath is not null)
            {
                files.Add(svgPath, Encoding.UTF8.GetBytes(SvgReport.Render(analysis, drawn!)));
            }

            files.Commit();
            if (outputPath is null)
            {
                stdout.Write(rendered);
            }
            else
            {
                stdout.WriteLine($"wrote the plan ({plan.NumLayers} layers, {TableReport.Policy(plan.Policy)} policy) to {outputPath}");
            }

            if (svgPath is not null)
            {
                stdout.WriteLine($"drew layers {string.Join(",", drawn!)} to {svgPath}");
            }

            return 0;
        });
        return command;
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
            if (first > last || last >= layerCount)
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
