using System.CommandLine;
using System.CommandLine.Help;

namespace Eplb.Cli;

/// <summary>
/// The <c>eplb</c> command line. Every failure the user can fix becomes one line on standard error,
/// <c>eplb: error: ...</c>, with exit code 2 for usage errors and 1 for bad data; nothing goes to standard output.
/// </summary>
internal static class EplbApp
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin)
    {
        var root = new RootCommand(
            "Plan Mixture-of-Experts expert placements with DeepSeek's EPLB algorithm.\n" +
            "With no command, runs a built-in DeepSeek-V3-shaped sample.\n\n" +
            "Examples:\n" +
            "  eplb\n" +
            "  eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32\n" +
            "  eplb generate --layers 58 --experts 256 --output loads.npy\n" +
            "  eplb bench --replicas 288 --groups 8 --nodes 4 --gpus 32");
        SampleCommand.Configure(root, stdout);
        root.Add(RebalanceCommand.Create(stdout, stdin));
        root.Add(GenerateCommand.Create(stdout));
        root.Add(BenchCommand.Create(stdout, stdin));

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
        {
            stderr.WriteLine($"eplb: error: {OneLine(parsed.Errors[0].Message)}");
            return CliException.UsageExitCode;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (CliException e)
        {
            stderr.WriteLine($"eplb: error: {e.Message}");
            return e.ExitCode;
        }
        catch (ArgumentException e)
        {
            // The library names the parameter and the rule; say it in the tool's terms.
            bool data = e.ParamName is "weight" or "numLayers";
            stderr.WriteLine($"eplb: error: {Describe(e)}");
            return data ? CliException.DataExitCode : CliException.UsageExitCode;
        }
        catch (OutOfMemoryException)
        {
            stderr.WriteLine("eplb: error: not enough memory for a plan of this size");
            return CliException.DataExitCode;
        }
    }

    // System.CommandLine lists choices on lines of their own; the contract is one line.
    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>A library exception's rule, in the tool's option names, without the parameter suffix.</summary>
    internal static string Describe(ArgumentException e) => ToOptionNames(FirstLine(e));

    private static string FirstLine(ArgumentException e)
    {
        string message = e.Message.Split('\n')[0].TrimEnd('\r');
        string suffix = $" (Parameter '{e.ParamName}')";
        return message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }

    private static string ToOptionNames(string message) => message
        .Replace("numReplicas", "--replicas", StringComparison.Ordinal)
        .Replace("numGroups", "--groups", StringComparison.Ordinal)
        .Replace("numNodes", "--nodes", StringComparison.Ordinal)
        .Replace("numGpus", "--gpus", StringComparison.Ordinal)
        .Replace("numSteps", "--steps", StringComparison.Ordinal)
        .Replace("numLayers", "--layers", StringComparison.Ordinal)
        .Replace("numExperts", "--experts", StringComparison.Ordinal);
}
