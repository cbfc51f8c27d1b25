using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Eplb.Workloads;

namespace Eplb.Cli;

/// <summary>One step of the simulated loop.</summary>
/// <param name="Step">The window just recorded.</param>
/// <param name="Balancedness">The plan in force after this step, judged on the next window.</param>
/// <param name="Rebalanced">Whether the loop migrated at this step.</param>
/// <param name="Gain">The gain the decision saw on the tracked loads.</param>
/// <param name="Copies">The expert copies the migration took (0 without one).</param>
/// <param name="NeverBalancedness">The first plan, never replaced, on the next window.</param>
/// <param name="AlwaysBalancedness">A fresh plan every step, on the next window.</param>
/// <param name="AlwaysCopies">The copies a fresh plan every step takes, unrelabelled.</param>
internal sealed record LoopStep(int Step, double Balancedness, bool Rebalanced, double Gain, int Copies, double NeverBalancedness, double AlwaysBalancedness, int AlwaysCopies);

/// <summary>
/// <c>eplb simulate</c>: replays a drifting load series through the whole loop — track, decide, rebalance, relabel —
/// and reports, step by step, how the plan in force does on the next window and what the migrations cost, next to
/// never rebalancing and rebalancing every step without relabelling.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var weights = new Option<string?>("--weights") { Description = "A load series: a 3-D .npy [steps, layers, experts], or a series written by eplb generate --steps; default: generated" };
        var steps = new Option<int>("--steps") { Description = "Windows to generate when there is no --weights (default 20)", DefaultValueFactory = _ => 20 };
        var layers = new Option<int>("--layers") { Description = "Layers to generate (default 58)", DefaultValueFactory = _ => 58 };
        var experts = new Option<int>("--experts") { Description = "Experts to generate (default 256)", DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { Description = "Seed of the generated series (default 1)", DefaultValueFactory = _ => 1 };
        var window = new Option<int>("--window") { Description = "Recent windows the tracker sums to plan from (default 2)", DefaultValueFactory = _ => 2 };
        var minGain = new Option<double>("--min-gain") { Description = "The least gain in overall balancedness worth a migration (default 0.02)", DefaultValueFactory = _ => 0.02 };
        var chart = new Option<string?>("--chart") { Description = "Draw balancedness and copies over time as an SVG" };
        var format = new Option<string>("--format") { Description = "table (default: a line per step as it runs) or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var cluster = new ClusterOptions();
        var command = new Command("simulate",
            "Replay a drifting load series through the serving loop: track the loads, decide, rebalance, relabel.\n" +
            "Each step reports the plan in force on the next window, whether it rebalanced, and the copies made.\n\n" +
            "Examples:\n" +
            "  eplb simulate --replicas 288 --groups 8 --nodes 4 --gpus 32 --chart loop.svg\n" +
            "  eplb simulate --weights series.npy --replicas 288 --groups 8 --nodes 18 --gpus 144 --min-gain 0.05 --format json")
        {
            weights, steps, layers, experts, seed, window, minGain, chart, format,
        };
        cluster.AddTo(command);
        command.SetAction(parsed =>
        {
            ClusterConfig config = cluster.Read(parsed);
            double threshold = parsed.GetValue(minGain);
            if (!(threshold >= 0 && threshold <= 1))
            {
                throw CliException.Usage($"--min-gain must be between 0 and 1, but is {threshold.ToString(CultureInfo.InvariantCulture)}");
            }

            int windowSteps = parsed.GetValue(window);
            if (windowSteps <= 0)
            {
                throw CliException.Usage($"--window must be positive, but is {windowSteps}");
            }

            var files = new OutputFiles();
            OutputTarget? chartTarget = parsed.GetValue(chart) is string chartPath ? files.Claim(chartPath, "--chart") : null;
            IReadOnlyList<LoadMatrix> series = Series(parsed.GetValue(weights), parsed.GetValue(steps), parsed.GetValue(layers), parsed.GetValue(experts), parsed.GetValue(seed), config.Groups);
            if (series.Count < 2)
            {
                throw CliException.Usage("simulate needs a series of at least 2 windows: each plan is judged on the window after it");
            }

            ToolLimits.ThrowIfTooLarge(config.Replicas, series[0].Layers);
            bool json = parsed.GetValue(format) == "json";
            TextWriter progress = json ? stderr : stdout;
            if (!json)
            {
                progress.WriteLine(Inv($"{series.Count} windows of {series[0].Layers} layers x {series[0].Experts} experts; ({config.Replicas}, {config.Groups}, {config.Nodes}, {config.Gpus}); plans from the last {windowSteps} window(s); rebalance when the gain reaches {threshold:0.000}"));
                progress.WriteLine("balancedness = the plan in force on the next window (sum of mean GPU loads / sum of maxima)");
            }

            List<LoopStep> loop = Run(series, config, windowSteps, threshold, progress);
            if (chartTarget is not null)
            {
                files.Set(chartTarget, Encoding.UTF8.GetBytes(LoopChart.Render(loop, config, threshold)));
            }

            files.Commit(stdout);
            stdout.Write(json ? Json(loop) : Summary(loop));
            if (chartTarget is { IsFile: true })
            {
                stdout.WriteLine($"drew the loop to {chartTarget.Path}");
            }

            return 0;
        });
        return command;
    }

    private static IReadOnlyList<LoadMatrix> Series(string? path, int steps, int layers, int experts, int seed, int groups)
    {
        if (path is not null)
        {
            return LoadReader.Read(path, TextReader.Null).Steps;
        }

        try
        {
            return [.. ExpertLoadGenerator.GenerateSeries(steps, layers, experts, seed, groups, groupCorrelation: groups > 1).Select(LoadMatrix.From)];
        }
        catch (ArgumentException e)
        {
            throw CliException.Usage(EplbApp.Describe(e));
        }
    }

    // The loop a server runs, with the two extremes beside it: the first plan kept for ever, and a fresh plan every step.
    private static List<LoopStep> Run(IReadOnlyList<LoadMatrix> series, ClusterConfig config, int windowSteps, double threshold, TextWriter progress)
    {
        int layers = series[0].Layers, experts = series[0].Experts;
        var tracker = new ExpertLoadTracker(layers, experts, windowSteps, movingAverage: false);
        var loads = new float[layers * experts];
        RebalancePlan? inForce = null, first = null, always = null;
        var loop = new List<LoopStep>();
        for (int t = 0; t + 1 < series.Count; t++)
        {
            tracker.Record(series[t].Values);
            tracker.EndStep();
            tracker.ReadLoads(loads);
            RebalancePlan fresh = Plan(loads, layers, config);
            bool rebalanced;
            double gain = 0;
            int copies = 0, alwaysCopies = 0;
            if (inForce is null)
            {
                (inForce, first, rebalanced) = (fresh, fresh, true);
            }
            else
            {
                int[] placement = Flattening.Flat(inForce.PhysicalToLogical);
                RebalanceDecision decision = RebalanceDecision.Evaluate(loads, placement, PlanRelabelling.Relabel(fresh, placement), threshold);
                (rebalanced, gain) = (decision.ShouldRebalance, decision.Gain);
                if (rebalanced)
                {
                    inForce = decision.Plan.Plan;
                    copies = decision.Copies;
                }

                alwaysCopies = PlanMigration.Between(Flattening.Flat(always!.PhysicalToLogical), fresh).Copies;
            }

            always = fresh;
            float[] next = series[t + 1].Values;
            var step = new LoopStep(t, Balancedness(next, inForce), rebalanced, gain, copies, Balancedness(next, first!), Balancedness(next, always), alwaysCopies);
            loop.Add(step);
            progress.WriteLine(Inv($"step {t + 1,3}/{series.Count - 1}: balancedness {step.Balancedness:F3}  {(t == 0 ? "first plan" : rebalanced ? $"rebalanced (gain {gain:+0.000;-0.000}), {copies} copies" : $"kept (gain {gain:+0.000;-0.000;0.000})")}"));
        }

        return loop;
    }

    private static RebalancePlan Plan(float[] loads, int layers, ClusterConfig config)
    {
        try
        {
            return ExpertLoadBalancer.RebalanceExperts(loads, layers, config.Replicas, config.Groups, config.Nodes, config.Gpus, config.Options);
        }
        catch (ArgumentException e) when (e.ParamName == "weight")
        {
            throw CliException.BadData($"the load series: {EplbApp.Describe(e)}");
        }
    }

    private static double Balancedness(float[] loads, RebalancePlan plan) => PlacementDiagnostics.Analyze(loads, plan).Balancedness;

    private static string Summary(List<LoopStep> loop)
    {
        var sb = new StringBuilder();
        int migrations = loop.Count(s => s.Rebalanced) - 1;
        sb.AppendLine();
        sb.AppendLine("                         mean balancedness   migrations   expert copies");
        sb.AppendLine(Inv($"this loop                {loop.Average(s => s.Balancedness),17:F3}   {migrations,10}   {loop.Sum(s => s.Copies),13}"));
        sb.AppendLine(Inv($"never rebalance          {loop.Average(s => s.NeverBalancedness),17:F3}   {0,10}   {0,13}"));
        sb.AppendLine(Inv($"fresh plan every step    {loop.Average(s => s.AlwaysBalancedness),17:F3}   {loop.Count - 1,10}   {loop.Sum(s => s.AlwaysCopies),13}"));
        return sb.ToString();
    }

    private static string Json(List<LoopStep> loop)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartArray("steps");
            foreach (LoopStep s in loop)
            {
                w.WriteStartObject();
                w.WriteNumber("step", s.Step);
                w.WriteNumber("balancedness", s.Balancedness);
                w.WriteBoolean("rebalanced", s.Rebalanced);
                w.WriteNumber("gain", s.Gain);
                w.WriteNumber("copies", s.Copies);
                w.WriteNumber("balancedness_never", s.NeverBalancedness);
                w.WriteNumber("balancedness_always", s.AlwaysBalancedness);
                w.WriteNumber("copies_always", s.AlwaysCopies);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("balancedness", loop.Average(s => s.Balancedness));
            w.WriteNumber("copies", loop.Sum(s => s.Copies));
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
