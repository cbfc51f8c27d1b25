using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Eplb.Cli;

/// <summary>
/// The <c>eplb</c> command line. Every failure the user can fix becomes one line on standard error,
/// <c>eplb: error: ...</c>, with exit code 2 for usage errors and 1 for bad data; nothing goes to standard output.
/// </summary>
internal static class EplbApp
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin)
    {
        Command root = Create(stdout, stderr, stdin);
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
        {
            stderr.WriteLine($"eplb: error: {Describe(parsed.Errors)}");
            return CliException.UsageExitCode;
        }

        return Invoke(parsed, stdout, stderr);
    }

    // A plain command named eplb rather than RootCommand, whose name is the executable's (Eplb.Cli, or the test
    // host's): every usage line says what users type.
    private static Command Create(TextWriter stdout, TextWriter stderr, TextReader stdin)
    {
        var root = new Command("eplb",
            "Plan Mixture-of-Experts expert placements with DeepSeek's EPLB algorithm.\n" +
            "With no command, runs a built-in DeepSeek-V3-shaped sample.\n\n" +
            "Examples:\n" +
            "  eplb\n" +
            "  eplb rebalance --weights loads.npy --replicas 288 --groups 8 --nodes 4 --gpus 32\n" +
            "  eplb analyze --weights loads.npy --plan plan.json --gpus 32 --nodes 4 --groups 8\n" +
            "  eplb simulate --replicas 288 --groups 8 --nodes 4 --gpus 32 --chart loop.svg\n" +
            "  eplb generate --layers 58 --experts 256 --output loads.npy\n" +
            "  eplb bench --replicas 288 --groups 8 --nodes 4 --gpus 32\n" +
            "  eplb help rebalance")
        {
            new HelpOption(),
            new VersionOption(),
        };
        SampleCommand.Configure(root, stdout);
        root.Add(RebalanceCommand.Create(stdout, stdin));
        root.Add(AnalyzeCommand.Create(stdout, stdin));
        root.Add(SimulateCommand.Create(stdout, stderr));
        root.Add(GenerateCommand.Create(stdout));
        root.Add(BenchCommand.Create(stdout, stdin));
        root.Add(QualityCommand.Create(stdout, stderr));
        root.Add(HelpCommand(root));
        return root;
    }

    // eplb help [command]: the same text as --help.
    private static Command HelpCommand(Command root)
    {
        var topic = new Argument<string?>("command") { Description = "The command to explain; none for an overview", Arity = ArgumentArity.ZeroOrOne };
        var help = new Command("help", "Show help for eplb or one of its commands") { topic };
        help.SetAction(parsed =>
        {
            string? name = parsed.GetValue(topic);
            if (name is not null && !root.Subcommands.Any(c => c.Name == name))
            {
                throw CliException.Usage($"help: no command '{name}'; the commands are {string.Join(", ", root.Subcommands.Select(c => c.Name))}");
            }

            return root.Parse(name is null ? ["--help"] : [name, "--help"]).Invoke(new InvocationConfiguration { Output = parsed.InvocationConfiguration.Output });
        });
        return help;
    }

    private static int Invoke(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
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

    /// <summary>
    /// Every parse error in one line: the missing options named together, numbers described as numbers, the rest as
    /// System.CommandLine says them.
    /// </summary>
    internal static string Describe(IReadOnlyList<ParseError> errors)
    {
        var missing = new List<string>();
        var others = new List<string>();
        foreach (ParseError error in errors)
        {
            string message = OneLine(error.Message);
            Match required = Regex.Match(message, "^Option '(?<option>[^']+)' is required\\.$");
            Match number = Regex.Match(message, "^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type 'System\\.(?<type>Int32|Nullable`1\\[System\\.Int32\\])'\\.$");
            if (required.Success)
            {
                missing.Add(required.Groups["option"].Value);
            }
            else if (number.Success)
            {
                others.Add($"{number.Groups["option"].Value} expects a whole number, not '{number.Groups["value"].Value}'");
            }
            else
            {
                others.Add(message.TrimEnd('.'));
            }
        }

        if (missing.Count > 0)
        {
            others.Insert(0, $"missing {(missing.Count == 1 ? "option" : "options")} {string.Join(", ", missing)}");
        }

        return string.Join("; ", others);
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
        .Replace("numExperts", "--experts", StringComparison.Ordinal)
        .Replace("UnavailableGpus", "--unavailable-gpus", StringComparison.Ordinal);
}
