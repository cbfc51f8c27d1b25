using System.CommandLine;
using Eplb.Workloads;

namespace Eplb.Cli;

/// <summary><c>eplb generate</c>: realistic loads from the calibrated generator, one window or a series.</summary>
internal static class GenerateCommand
{
    public static Command Create(TextWriter stdout)
    {
        var layers = new Option<int>("--layers") { Description = "MoE layers", Required = true };
        var experts = new Option<int>("--experts") { Description = "Logical experts per layer", Required = true };
        var groups = new Option<int>("--groups") { Description = "Expert groups (for --group-correlation)", DefaultValueFactory = _ => 1 };
        var correlation = new Option<bool>("--group-correlation") { Description = "Scale whole groups together, so some groups run hot (exercises the hierarchical policy)" };
        var steps = new Option<int>("--steps") { Description = "Windows in a drifting time series (default 1: one window)", DefaultValueFactory = _ => 1 };
        var seed = new Option<int>("--seed") { Description = "Random seed; equal seeds give equal loads", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--output") { Description = "File to write: .json, .csv or .npy (a series is 3-D: [steps, layers, experts]); - (or a device) for JSON on standard output", Required = true };
        var command = new Command("generate",
            "Write realistic expert loads (token counts) from the calibrated generator.\n\n" +
            "Examples:\n" +
            "  eplb generate --layers 58 --experts 256 --output loads.npy\n" +
            "  eplb generate --layers 58 --experts 256 --groups 8 --group-correlation --steps 10 --seed 7 --output series.json")
        {
            layers, experts, groups, correlation, steps, seed, output,
        };
        command.SetAction(parsed =>
        {
            var files = new OutputFiles();
            OutputTarget target = files.Claim(parsed.GetValue(output)!, "--output");
            string extension = target.Extension.Length == 0 ? ".json" : target.Extension;
            if (extension is not (".json" or ".csv" or ".npy"))
            {
                throw CliException.Usage($"--output {target.Path}: unsupported file type '{extension}'; use .json, .csv or .npy (or - for JSON on standard output)");
            }

            float[][,] series;
            try
            {
                series = ExpertLoadGenerator.GenerateSeries(parsed.GetValue(steps), parsed.GetValue(layers), parsed.GetValue(experts),
                    parsed.GetValue(seed), parsed.GetValue(groups), parsed.GetValue(correlation));
            }
            catch (ArgumentException e)
            {
                throw CliException.Usage(EplbApp.Describe(e));
            }
            files.Set(target, LoadWriter.Render(extension, series));
            files.Commit(stdout);
            if (target.IsFile)
            {
                stdout.WriteLine($"wrote {series.Length} window{(series.Length == 1 ? "" : "s")} of {series[0].GetLength(0)} layers x {series[0].GetLength(1)} experts to {target.Path}");
            }
            return 0;
        });
        return command;
    }
}
