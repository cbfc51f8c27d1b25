using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace Eplb.Cli.Tests;

/// <summary>--algorithm refined through the tool, and what locality costs.</summary>
public sealed class RefinedCommandTests : IDisposable
{
    private static readonly string[] s_cluster = ["--replicas", "80", "--groups", "8", "--nodes", "4", "--gpus", "16"];
    private readonly TempDir _dir = new();

    public RefinedCommandTests()
    {
        CliRunner.Run("generate", "--layers", "6", "--experts", "64", "--groups", "8", "--group-correlation", "--seed", "3", "--output", Loads)
            .ExitCode.Should().Be(0);
    }

    private string Loads => _dir.File("loads.npy");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Rebalance_AlgorithmRefined_NoDuplicatesAndNoBusierLayer()
    {
        JsonElement reference = Plan("reference");
        JsonElement refined = Plan("refined");

        refined.GetProperty("algorithm").GetString().Should().Be("refined");
        reference.GetProperty("algorithm").GetString().Should().Be("reference");
        double[] before = Layers(reference, "max_gpu_load"), after = Layers(refined, "max_gpu_load");
        for (int l = 0; l < before.Length; l++)
        {
            after[l].Should().BeLessThanOrEqualTo(before[l]);
        }

        Layers(refined, "duplicates").Should().OnlyContain(d => d == 0);
        Layers(reference, "duplicates").Sum().Should().BePositive("the reference wastes slots on these loads");
    }

    [Fact]
    public void Rebalance_Hierarchical_ReportsLocalityCost()
    {
        JsonElement plan = Plan("reference");

        double cost = plan.GetProperty("summary").GetProperty("locality_cost").GetDouble();
        cost.Should().BeGreaterThanOrEqualTo(1.0);
        Layers(plan, "hierarchical_over_lower_bound").Should().OnlyContain(r => r >= 1.0);
        CliResult table = CliRunner.Run(["rebalance", "--weights", Loads, .. s_cluster]);
        table.Stdout.Should().Contain("LB_hier/LB").And.Contain("what keeping groups within nodes costs");
    }

    [Fact]
    public void Rebalance_UnknownAlgorithm_OneLineUsageError()
    {
        CliResult result = CliRunner.Run(["rebalance", "--weights", Loads, .. s_cluster, "--algorithm", "best"]);

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Match("eplb: error: *--algorithm must be reference or refined, not 'best'*");
        result.Stderr.TrimEnd('\n').Should().NotContain("\n");
    }

    [Fact]
    public void BenchAndSimulate_AlgorithmRefined_Run()
    {
        CliResult bench = CliRunner.Run(["bench", "--layers", "4", "--experts", "64", .. s_cluster, "--iterations", "3", "--algorithm", "refined", "--format", "json"]);
        bench.ExitCode.Should().Be(0, bench.Stderr);
        JsonDocument.Parse(bench.Stdout).RootElement.GetProperty("algorithm").GetString().Should().Be("refined");

        CliResult simulate = CliRunner.Run(["simulate", "--steps", "4", "--layers", "4", "--experts", "64", .. s_cluster, "--algorithm", "refined", "--format", "json"]);
        simulate.ExitCode.Should().Be(0, simulate.Stderr);
    }

    [Fact]
    public void Rebalance_MaxCopies_BudgetsEachLayersMigration()
    {
        string series = _dir.File("series.npy"), p0 = _dir.File("p0.json"), p1 = _dir.File("p1.json");
        CliRunner.Run("generate", "--layers", "6", "--experts", "64", "--groups", "8", "--steps", "2", "--seed", "8", "--output", series).ExitCode.Should().Be(0);
        CliRunner.Run(["rebalance", "--weights", series, "--step", "0", .. s_cluster, "--output", p0]).ExitCode.Should().Be(0);

        CliResult result = CliRunner.Run(["rebalance", "--weights", series, "--step", "1", .. s_cluster, "--previous", p0, "--max-copies", "5", "--output", p1]);

        result.ExitCode.Should().Be(0, result.Stderr);
        JsonElement migration = JsonDocument.Parse(File.ReadAllText(p1)).RootElement.GetProperty("migration");
        migration.GetProperty("max_copies_per_layer").GetInt32().Should().Be(5);
        int copies = migration.GetProperty("copies").GetInt32();
        copies.Should().BeLessThanOrEqualTo(5 * 6).And.Be(migration.GetProperty("moves").GetArrayLength());
        migration.GetProperty("fresh_copies").GetInt32().Should().BeGreaterThan(copies);
        foreach (IGrouping<int, JsonElement> layer in migration.GetProperty("moves").EnumerateArray().GroupBy(m => m.GetProperty("layer").GetInt32()))
        {
            layer.Count().Should().BeLessThanOrEqualTo(5);
        }
    }

    [Theory]
    [InlineData("--max-copies 4", "*--max-copies budgets the migration from --previous*")]
    [InlineData("--max-copies -1 --previous p.json", "*--max-copies must be 0 or more, but is -1*")]
    public void Rebalance_MaxCopiesMisused_OneLineUsageError(string options, string pattern)
    {
        CliResult result = CliRunner.Run(["rebalance", "--weights", Loads, .. s_cluster, .. options.Split(' ')]);

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Match("eplb: error: " + pattern);
    }

    [Fact]
    public void Quality_QuickRun_WritesTheReportAndTheChart()
    {
        string report = _dir.File("quality.md"), chart = _dir.File("quality.svg");

        CliResult result = CliRunner.Run("quality", "--layers", "2", "--steps", "2", "--timing-runs", "1", "--output", report, "--svg", chart);

        result.ExitCode.Should().Be(0, result.Stderr);
        string text = File.ReadAllText(report);
        text.Should().Contain("| DeepSeek-V3 | (288, 8, 4, 32) | 9 | calibrated | LB_hier |")
            .And.Contain("| Kimi-K2-like | (448, 1, 8, 64) | 7 | zipf | LB |")
            .And.Contain("| 0.1 | budgeted, K = 64 |");
        System.Xml.Linq.XDocument.Load(chart).Root!.Name.LocalName.Should().Be("svg");
    }

    [Fact]
    public void Quality_BadSteps_OneLineUsageError()
    {
        CliResult result = CliRunner.Run("quality", "--steps", "0");

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Be("eplb: error: --steps must be positive, but is 0\n");
    }

    private JsonElement Plan(string algorithm)
    {
        string output = _dir.File($"plan-{algorithm}.json");
        CliResult result = CliRunner.Run(["rebalance", "--weights", Loads, .. s_cluster, "--algorithm", algorithm, "--output", output]);
        result.ExitCode.Should().Be(0, result.Stderr);
        return JsonDocument.Parse(File.ReadAllText(output)).RootElement;
    }

    private static double[] Layers(JsonElement plan, string field) => [.. plan.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty(field).GetDouble())];
}
