using System.CommandLine;

namespace Eplb.Cli;

/// <summary>The four numbers that describe the cluster, shared by <c>rebalance</c> and <c>bench</c>.</summary>
internal sealed class ClusterOptions
{
    public Option<int> Replicas { get; } = new("--replicas", "--num-replicas") { Description = "Physical expert slots per layer (num_replicas): at least the expert count, a multiple of --gpus", Required = true };

    public Option<int> Groups { get; } = new("--groups", "--num-groups") { Description = "Expert groups (num_groups); the hierarchical policy applies when --nodes divides it", Required = true };

    public Option<int> Nodes { get; } = new("--nodes", "--num-nodes") { Description = "Server nodes (num_nodes)", Required = true };

    public Option<int> Gpus { get; } = new("--gpus", "--num-gpus") { Description = "GPUs in all (num_gpus): a multiple of --nodes", Required = true };

    public Option<string> TieOrder { get; } = CreateTieOrder();

    public Option<string> Algorithm { get; } = CreateAlgorithm();

    public Option<string?> UnavailableGpus { get; } = new("--unavailable-gpus") { Description = "GPUs out of service, such as 3,17: they get no replica (-1 slots) and the plan is the global policy's over the rest" };

    /// <summary>The tool's names for <see cref="Eplb.TieOrder"/>, as PyTorch users know the sorts.</summary>
    public static string Name(Eplb.TieOrder order) => order switch
    {
        Eplb.TieOrder.X86SimdSortAvx512 => "avx512",
        Eplb.TieOrder.X86SimdSortAvx2 => "avx2",
        _ => "libstdc++",
    };

    /// <summary>The tool's names for <see cref="RebalanceAlgorithm"/>.</summary>
    public static string Name(RebalanceAlgorithm algorithm) => algorithm == RebalanceAlgorithm.Refined ? "refined" : "reference";

    private static Option<string> CreateAlgorithm() => Choice("--algorithm",
        "reference (eplb.py exactly; the default) or refined (better balance, no wasted duplicate slots, never a busier GPU than the reference in any layer)",
        "reference", "refined");

    private static Option<string> CreateTieOrder() => Choice("--tie-order",
        "Whose sort breaks ties, i.e. which PyTorch's eplb.py to match exactly: libstdc++ (PyTorch <= 2.7, and ARM; the default), avx512 or avx2 (PyTorch after 2.7 on x86 CPUs with AVX-512, or with AVX2 only)",
        "libstdc++", "avx512", "avx2");

    // An option taking one of a few names, the first the default; anything else is a one-line usage error.
    private static Option<string> Choice(string name, string description, params string[] names)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => names[0] };
        string allowed = $"{string.Join(", ", names[..^1])} or {names[^1]}";
        option.Validators.Add(result =>
        {
            string? value = result.GetValueOrDefault<string>();
            if (Array.IndexOf(names, value) < 0)
            {
                result.AddError($"{name} must be {allowed}, not '{value}'");
            }
        });
        return option;
    }

    public void AddTo(Command command)
    {
        command.Add(Replicas);
        command.Add(Groups);
        command.Add(Nodes);
        command.Add(Gpus);
        command.Add(TieOrder);
        command.Add(Algorithm);
        command.Add(UnavailableGpus);
    }

    public ClusterConfig Read(ParseResult parsed) =>
        new(parsed.GetValue(Replicas), parsed.GetValue(Groups), parsed.GetValue(Nodes), parsed.GetValue(Gpus), ReadTieOrder(parsed), ParseGpuList(parsed.GetValue(UnavailableGpus)), ReadAlgorithm(parsed));

    public RebalanceAlgorithm ReadAlgorithm(ParseResult parsed) => parsed.GetValue(Algorithm) == "refined" ? RebalanceAlgorithm.Refined : RebalanceAlgorithm.Reference;

    public Eplb.TieOrder ReadTieOrder(ParseResult parsed) => parsed.GetValue(TieOrder) switch
    {
        "avx512" => Eplb.TieOrder.X86SimdSortAvx512,
        "avx2" => Eplb.TieOrder.X86SimdSortAvx2,
        _ => Eplb.TieOrder.LibStdCxx,
    };

    /// <summary>"3,17" → [3, 17]; ranges are checked against --gpus by the library.</summary>
    internal static int[] ParseGpuList(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var gpus = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int gpu))
            {
                throw CliException.Usage($"--unavailable-gpus: '{part}' is not a GPU number; write them as 3,17");
            }

            gpus.Add(gpu);
        }

        return [.. gpus];
    }
}
