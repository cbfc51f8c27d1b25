using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Eplb.Cli;

/// <summary><c>eplb quality</c>: the reference and refined algorithms, and migration strategies, scored side by side.</summary>
internal static class QualityCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var steps = new Option<int>("--steps") { Description = "Drifting steps for the migration comparison (default 50)", DefaultValueFactory = _ => 50 };
        var layers = new Option<int>("--layers") { Description = "Layers per model instead of each model's own (for a quick run)", DefaultValueFactory = _ => 0 };
        var runs = new Option<int>("--timing-runs") { Description = "Timed calls per algorithm and case; the median is reported (default 11)", DefaultValueFactory = _ => 11 };
        var output = new Option<string?>("--output") { Description = "Write the report (Markdown) to a file instead of standard output" };
        var svg = new Option<string?>("--svg") { Description = "Draw max GPU load over the bound per configuration, and balance against copies, as an SVG" };
        var command = new Command("quality",
            "Score the reference and refined algorithms on calibrated, group-correlated and Zipf loads for the\n" +
            "DeepSeek-V3, Qwen3-like and Kimi-K2-like shapes of docs/load-model.md (max GPU load over LB or LB_hier,\n" +
            "balancedness, duplicates, the next window, run time), and fresh, relabelled and budgeted migration\n" +
            "over a drifting series at (288, 8, 4, 32). Loads are generated from fixed seeds: only times vary.\n\n" +
            "Examples:\n" +
            "  eplb quality --output docs/quality.md --svg docs/quality.svg\n" +
            "  eplb quality --layers 4 --steps 3")
        {
            steps, layers, runs, output, svg,
        };
        command.SetAction(parsed =>
        {
            int stepCount = parsed.GetValue(steps), layerCount = parsed.GetValue(layers), timingRuns = parsed.GetValue(runs);
            if (stepCount < 1 || layerCount < 0 || timingRuns < 1)
            {
                throw CliException.Usage(stepCount < 1 ? $"--steps must be positive, but is {stepCount}"
                    : layerCount < 0 ? $"--layers must be 0 (each model's own) or positive, but is {layerCount}"
                    : $"--timing-runs must be positive, but is {timingRuns}");
            }

            var files = new OutputFiles();
            OutputTarget? reportTarget = parsed.GetValue(output) is string reportPath ? files.Claim(reportPath, "--output") : null;
            OutputTarget? svgTarget = parsed.GetValue(svg) is string svgPath ? files.Claim(svgPath, "--svg") : null;

            List<QualityRow> rows = QualityBenchmark.Compare(layerCount, timingRuns, warmUpMilliseconds: layerCount > 0 ? 0 : 300, stderr.WriteLine);
            QualityConfig migrated = QualityBenchmark.Configs[0] with { Layers = layerCount > 0 ? layerCount : QualityBenchmark.Configs[0].Layers };
            List<MigrationRow> migration = QualityBenchmark.Migrate(migrated, stepCount, stderr.WriteLine);
            string report = Markdown(rows, migrated, stepCount, migration);
            if (reportTarget is not null)
            {
                files.Set(reportTarget, Encoding.UTF8.GetBytes(report));
            }

            if (svgTarget is not null)
            {
                files.Set(svgTarget, Encoding.UTF8.GetBytes(QualityChart.Render(rows, migrated, migration)));
            }

            files.Commit(stdout);
            if (reportTarget is null)
            {
                stdout.Write(report);
            }

            return 0;
        });
        return command;
    }

    internal static string Markdown(List<QualityRow> rows, QualityConfig migrated, int steps, List<MigrationRow> migration)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Plan quality: reference and refined");
        sb.AppendLine();
        sb.AppendLine("Excess = max GPU load / bound − 1, per layer (mean and worst layer); the bound is `LB_hier` for hierarchical");
        sb.AppendLine("plans, `LB` for global ones. Balancedness is Σ mean / Σ max over layers; *next* scores the plan on the next window");
        sb.AppendLine("of a drifting series. Time is the median of the timed calls, one thread, after 300 ms of warm-up (the");
        sb.AppendLine("README's BenchmarkDotNet table is the careful measurement).");
        sb.AppendLine();
        sb.AppendLine("| model | cluster | slots/GPU | loads | bound | reference excess | refined excess | removed | balancedness | dup/layer | next window | time ms (×) |");
        sb.AppendLine("| --- | --- | ---: | --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: |");
        foreach (QualityRow r in rows)
        {
            sb.AppendLine(Inv($"| {r.Config.Model} | {r.Config.Cluster} | {r.Config.SlotsPerGpu} | {r.Loads} | {r.Bound} | {Percent(r.Reference.MeanExcess)} ({Percent(r.Reference.WorstExcess)}) | {Percent(r.Refined.MeanExcess)} ({Percent(r.Refined.WorstExcess)}) | {Share(r.Removed)} | {r.Reference.Balancedness:F4} → {r.Refined.Balancedness:F4} | {r.Reference.DuplicatesPerLayer:0.##} → {r.Refined.DuplicatesPerLayer:0.##} | {r.Reference.NextWindow:F4} → {r.Refined.NextWindow:F4} | {r.Reference.Milliseconds:0.00} / {r.Refined.Milliseconds:0.00} ({r.Refined.Milliseconds / r.Reference.Milliseconds:0.0}×) |"));
        }

        sb.AppendLine();
        sb.AppendLine("Per configuration: the share of the reference's excess that refined removes, averaged over the kinds of loads");
        sb.AppendLine("(the target: at least half with 5 or more slots per GPU), and what the hierarchical policy's locality costs.");
        sb.AppendLine();
        sb.AppendLine("| model | cluster | slots/GPU | excess removed | LB_hier / LB on calibrated loads |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: |");
        foreach (IGrouping<QualityConfig, QualityRow> config in rows.GroupBy(r => r.Config))
        {
            double[] removed = [.. config.Select(r => r.Removed).Where(r => !double.IsNaN(r))];
            string locality = config.Key.Hierarchical ? Inv($"{config.First().LocalityCost:F4}") : "— (global)";
            sb.AppendLine(Inv($"| {config.Key.Model} | {config.Key.Cluster} | {config.Key.SlotsPerGpu} | {Share(removed.Length == 0 ? double.NaN : removed.Average())} | {locality} |"));
        }

        sb.AppendLine();
        sb.AppendLine(Inv($"## Migration over {steps} drifting steps at {migrated.Cluster}, {migrated.Layers} layers"));
        sb.AppendLine();
        sb.AppendLine("Each strategy moves from its own plan in force to a plan for the new window. Copies as in `PlanMigration`;");
        sb.AppendLine("balancedness on the window planned for, and on the next. Drift scales `σ_drift` and domain changes");
        sb.AppendLine("(`ExpertLoadGenerator.GenerateSeries`): 1 is the default series, 0.1 mild.");
        sb.AppendLine();
        sb.AppendLine("| drift | strategy | copies per layer | share of slots | balancedness | next window |");
        sb.AppendLine("| ---: | --- | ---: | ---: | ---: | ---: |");
        foreach (MigrationRow m in migration)
        {
            sb.AppendLine(Inv($"| {m.Drift:0.##} | {m.Strategy} | {m.CopiesPerLayer:0.0} | {100 * m.CopiedShare:0.0} % | {m.Balancedness:F4} | {m.NextWindow:F4} |"));
        }

        return sb.ToString();
    }

    private static string Percent(double excess) => Inv($"{100 * excess:0.000} %");

    private static string Share(double removed) => double.IsNaN(removed) ? "— (none)" : Inv($"{100 * removed:0.0} %");

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
