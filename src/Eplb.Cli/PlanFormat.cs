namespace Eplb.Cli;

/// <summary>
/// How <c>eplb rebalance</c> writes a plan: chosen by <c>--format</c>, else by the output's extension, else a table.
/// </summary>
/// <remarks>
/// <c>.npy</c> is <c>phy2log</c> alone, <c>[layers, num_replicas]</c> int64 — <c>np.load("plan.npy")</c>, then
/// <c>torch.from_numpy</c>; <c>.npz</c> holds <c>phy2log</c>, <c>log2phy</c> and <c>logcnt</c> as eplb.py returns them,
/// int64, as <c>np.savez</c> writes them (<c>np.load("plan.npz")["log2phy"]</c>).
/// </remarks>
internal enum PlanFormat
{
    Table,
    Json,
    Csv,
    Npy,
    Npz,
}

internal static class PlanFormats
{
    public static readonly string[] Names = ["table", "json", "csv", "npy", "npz"];

    /// <summary>The format to write to <paramref name="target"/>; refuses an explicit format its extension contradicts.</summary>
    public static PlanFormat Choose(string? requested, OutputTarget? target)
    {
        PlanFormat? byExtension = target?.Extension switch
        {
            ".json" => PlanFormat.Json,
            ".csv" => PlanFormat.Csv,
            ".npy" => PlanFormat.Npy,
            ".npz" => PlanFormat.Npz,
            ".txt" => PlanFormat.Table,
            _ => null,
        };
        PlanFormat? explicitFormat = requested is null ? null : Enum.Parse<PlanFormat>(requested, ignoreCase: true);
        if (explicitFormat is PlanFormat e && byExtension is PlanFormat x && e != x)
        {
            throw CliException.Usage($"--format {requested} contradicts --output {target!.Path}, whose extension means {Name(x)}; drop one or make them agree");
        }

        PlanFormat format = explicitFormat ?? byExtension ?? PlanFormat.Table;
        if (format is PlanFormat.Npy or PlanFormat.Npz && (target is null || target.IsStandardOutput))
        {
            throw CliException.Usage($"--format {Name(format)} is binary; write it to a file with --output plan.{Name(format)}");
        }

        return format;
    }

    public static string Name(PlanFormat format) => Names[(int)format];
}
