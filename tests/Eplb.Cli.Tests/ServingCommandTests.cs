using System.Text.Json;
using System.Xml.Linq;
using FluentAssertions;
using Xunit;

namespace Eplb.Cli.Tests;

/// <summary>The production loop through the tool: rebalance --previous, --unavailable-gpus, analyze and simulate.</summary>
public sealed class ServingCommandTests : IDisposable
{
    private static readonly string[] s_cluster = ["--replicas", "48", "--groups", "4", "--nodes", "2", "--gpus", "8"];
    private readonly TempDir _dir = new();

    public ServingCommandTests()
    {
        CliRunner.Run("generate", "--layers", "4", "--experts", "32", "--groups", "4", "--group-correlation", "--steps", "3", "--seed", "5", "--output", Series)
            .ExitCode.Should().Be(0);
    }

    private string Series => _dir.File("series.npy");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Rebalance_Previous_WritesTheRelabelledPlanAndItsMigration()
    {
        JsonElement before = Plan(0);
        JsonElement fresh = Plan(1);
        JsonElement next = Plan(1, "--previous", _dir.File("plan0.json"));

        JsonElement migration = next.GetProperty("migration");
        int copies = migration.GetProperty("copies").GetInt32();
        migration.GetProperty("moves").GetArrayLength().Should().Be(copies);
        copies.Should().BeLessThanOrEqualTo(migration.GetProperty("fresh_copies").GetInt32());
        Layers(next, "max_gpu_load").Should().Equal(Layers(fresh, "max_gpu_load"), "relabelling keeps every GPU's load");
        foreach (JsonElement move in migration.GetProperty("moves").EnumerateArray())
        {
            int layer = move.GetProperty("layer").GetInt32(), expert = move.GetProperty("expert").GetInt32();
            int gpu = move.GetProperty("gpu").GetInt32(), source = move.GetProperty("source_gpu").GetInt32();
            Slots(next, layer)[move.GetProperty("slot").GetInt32()].Should().Be(expert);
            Slots(next, layer)[(gpu * 6)..((gpu + 1) * 6)].Should().Contain(expert);
            Slots(before, layer)[(gpu * 6)..((gpu + 1) * 6)].Should().NotContain(expert, "a copy brings what the GPU lacks");
            Slots(before, layer)[(source * 6)..((source + 1) * 6)].Should().Contain(expert, "the source holds it");
        }
    }

    [Fact]
    public void Rebalance_PreviousAsPythonDumpOrNpy_GivesTheSameMigration()
    {
        JsonElement before = Plan(0);
        int[][] phy2log = [.. before.GetProperty("phy2log").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray())];
        File.WriteAllText(_dir.File("python.json"), JsonSerializer.Serialize(new { phy2log, step = 0 }));
        var matrix = new float[4, 48];
        for (int l = 0; l < 4; l++)
        {
            for (int p = 0; p < 48; p++)
            {
                matrix[l, p] = phy2log[l][p];
            }
        }

        File.WriteAllBytes(_dir.File("phy2log.npy"), NpyBytes.Create(matrix, "<i8"));

        string ours = Plan(1, "--previous", _dir.File("plan0.json")).GetProperty("migration").GetRawText();
        Plan(1, "--previous", _dir.File("python.json")).GetProperty("migration").GetRawText().Should().Be(ours);
        Plan(1, "--previous", _dir.File("phy2log.npy")).GetProperty("migration").GetRawText().Should().Be(ours);
    }

    [Fact]
    public void Rebalance_PreviousOfAnotherShape_FailsInOneLine()
    {
        CliRunner.Run(["rebalance", "--weights", Series, "--step", "0", "--replicas", "64", "--groups", "4", "--nodes", "2", "--gpus", "8", "--output", _dir.File("wide.json")])
            .ExitCode.Should().Be(0);

        CliResult result = CliRunner.Run(["rebalance", "--weights", Series, "--step", "1", "--previous", _dir.File("wide.json"), .. s_cluster]);

        result.ExitCode.Should().Be(1);
        result.Stderr.Should().Be($"eplb: error: --previous {_dir.File("wide.json")}: phy2log is [4, 64], but the loads have 4 layers and --replicas is 48\n");
        result.Stdout.Should().BeEmpty();
    }

    [Fact]
    public void Rebalance_UnavailableGpus_LeavesTheirSlotsEmpty()
    {
        JsonElement plan = Plan(0, "--unavailable-gpus", "2,5");

        plan.GetProperty("policy").GetString().Should().Be("global");
        for (int l = 0; l < 4; l++)
        {
            int[] slots = Slots(plan, l);
            for (int p = 0; p < 48; p++)
            {
                (slots[p] == -1).Should().Be(p / 6 is 2 or 5, $"slot {p} of layer {l}");
            }
        }
    }

    [Theory]
    [InlineData("8", 2, "eplb: error: --unavailable-gpus names GPU 8, but GPUs run from 0 to 7 (--gpus is 8).\n")]
    [InlineData("1,1", 2, "eplb: error: --unavailable-gpus names GPU 1 twice.\n")]
    [InlineData("0,1,2,3,4,5,6", 2, "eplb: error: --unavailable-gpus leaves 1 GPUs with 6 slots per layer, fewer than the 32 logical experts: every expert needs a slot.\n")]
    [InlineData("3x", 2, "eplb: error: --unavailable-gpus: '3x' is not a GPU number; write them as 3,17\n")]
    public void Rebalance_BadUnavailableGpus_FailsInOneLine(string gpus, int exitCode, string message)
    {
        CliResult result = CliRunner.Run(["rebalance", "--weights", Series, "--step", "0", .. s_cluster, "--unavailable-gpus", gpus]);

        result.ExitCode.Should().Be(exitCode);
        result.Stderr.Should().Be(message);
    }

    [Fact]
    public void Analyze_Json_GivesTheIssuesFieldsAsTheLibraryComputesThem()
    {
        Plan(0);
        CliResult result = CliRunner.Run("analyze", "--weights", Series, "--step", "1", "--plan", _dir.File("plan0.json"), "--gpus", "8", "--nodes", "2", "--groups", "4", "--format", "json");

        result.ExitCode.Should().Be(0, result.Stderr);
        JsonElement json = JsonDocument.Parse(result.Stdout).RootElement;
        LoadMatrix loads = LoadReader.Read(Series, TextReader.Null).Steps[1];
        int[] placement = [.. Enumerable.Range(0, 4).SelectMany(l => Slots(Plan(0), l))];
        PlacementDiagnostics expected = PlacementDiagnostics.Analyze(loads.Values, 4, placement, 8, 2);
        json.GetProperty("balancedness").GetDouble().Should().Be(expected.Balancedness);
        JsonElement[] layers = [.. json.GetProperty("layers").EnumerateArray()];
        layers.Should().HaveCount(4);
        for (int l = 0; l < 4; l++)
        {
            layers[l].GetProperty("max_gpu_load").GetDouble().Should().Be(expected.Layers[l].MaxGpuLoad);
            layers[l].GetProperty("mean_gpu_load").GetDouble().Should().Be(expected.Layers[l].MeanGpuLoad);
            layers[l].GetProperty("balancedness").GetDouble().Should().Be(expected.Layers[l].Balancedness);
            layers[l].GetProperty("lower_bound").GetDouble().Should().Be(expected.Layers[l].LowerBound);
            layers[l].GetProperty("duplicates").GetInt32().Should().Be(expected.Layers[l].Duplicates);
        }

        JsonElement verdict = json.GetProperty("verdict");
        verdict.GetProperty("balancedness_now").GetDouble().Should().Be(expected.Balancedness);
        verdict.GetProperty("gain").GetDouble().Should().BeApproximately(verdict.GetProperty("balancedness_after").GetDouble() - expected.Balancedness, 1e-12);
        verdict.GetProperty("rebalance").GetBoolean().Should().Be(verdict.GetProperty("gain").GetDouble() >= 0.02);
    }

    [Fact]
    public void Analyze_Table_SaysWhetherToRebalance()
    {
        Plan(0);

        CliResult stale = CliRunner.Run("analyze", "--weights", Series, "--step", "2", "--plan", _dir.File("plan0.json"), "--gpus", "8", "--nodes", "2", "--groups", "4");
        CliResult current = CliRunner.Run("analyze", "--weights", Series, "--step", "0", "--plan", _dir.File("plan0.json"), "--gpus", "8", "--nodes", "2", "--groups", "4");

        stale.ExitCode.Should().Be(0);
        stale.Stdout.Should().Contain("layer  max GPU load  mean GPU load  balancedness  lower bound  max/LB  dup").And.Contain("overall balancedness");
        stale.Stdout.Should().Contain("verdict: rebalance — a fresh plan (4 groups, libstdc++ ties)");
        current.Stdout.Should().Contain("verdict: keep the plan in force", "the plan in force is the fresh plan for these loads").And.Contain("for 0 expert copies");
    }

    [Fact]
    public void Analyze_PlanWithUnavailableGpus_CountsOnlyTheOthers()
    {
        Plan(0, "--unavailable-gpus", "7");

        CliResult result = CliRunner.Run("analyze", "--weights", Series, "--step", "1", "--plan", _dir.File("plan0.json"), "--gpus", "8", "--nodes", "2", "--format", "json");

        result.ExitCode.Should().Be(0, result.Stderr);
        JsonDocument.Parse(result.Stdout).RootElement.GetProperty("layers").EnumerateArray().Should().OnlyContain(l => l.GetProperty("available_gpus").GetInt32() == 7);
    }

    [Fact]
    public void Simulate_GeneratedSeries_ReportsEveryStepAndDrawsTheLoop()
    {
        string chart = _dir.File("loop.svg");

        CliResult result = CliRunner.Run(["simulate", "--steps", "5", "--layers", "4", "--experts", "32", .. s_cluster, "--chart", chart]);

        result.ExitCode.Should().Be(0, result.Stderr);
        string[] lines = result.Stdout.Split('\n');
        lines.Where(l => l.StartsWith("step ")).Should().HaveCount(4);
        lines.Should().Contain(l => l.StartsWith("step   1/4: balancedness ") && l.EndsWith("first plan"));
        lines.Should().Contain(l => l.StartsWith("this loop ")).And.Contain(l => l.StartsWith("never rebalance ")).And.Contain(l => l.StartsWith("fresh plan every step "));
        XDocument svg = XDocument.Load(chart);
        XNamespace ns = "http://www.w3.org/2000/svg";
        svg.Descendants(ns + "polyline").Should().HaveCount(3);
        svg.Descendants(ns + "circle").Count().Should().Be(lines.Count(l => l.StartsWith("step ") && !l.Contains("kept")));
    }

    [Fact]
    public void Simulate_SeriesFileAsJson_MatchesTheLibraryLoop()
    {
        CliResult result = CliRunner.Run(["simulate", "--weights", Series, .. s_cluster, "--window", "1", "--min-gain", "0", "--format", "json"]);

        result.ExitCode.Should().Be(0, result.Stderr);
        result.Stderr.Should().Contain("step   2/2", "progress goes to standard error when standard output carries JSON");
        JsonElement[] steps = [.. JsonDocument.Parse(result.Stdout).RootElement.GetProperty("steps").EnumerateArray()];
        steps.Should().HaveCount(2);

        // Window 1 and no threshold: every step rebalances onto the plan for the window just recorded.
        IReadOnlyList<LoadMatrix> series = LoadReader.Read(Series, TextReader.Null).Steps;
        RebalancePlan first = ExpertLoadBalancer.RebalanceExperts(series[0].Values, 4, 48, 4, 2, 8);
        steps[0].GetProperty("balancedness").GetDouble().Should().Be(PlacementDiagnostics.Analyze(series[1].Values, first).Balancedness);
        RebalancePlan second = ExpertLoadBalancer.RebalanceExperts(series[1].Values, 4, 48, 4, 2, 8);
        steps[1].GetProperty("balancedness").GetDouble().Should().Be(PlacementDiagnostics.Analyze(series[2].Values, second).Balancedness);
        steps[1].GetProperty("rebalanced").GetBoolean().Should().Be(steps[1].GetProperty("gain").GetDouble() > 0);
    }

    [Fact]
    public void Simulate_OneWindow_FailsInOneLine()
    {
        CliResult result = CliRunner.Run(["simulate", "--steps", "1", "--layers", "2", "--experts", "32", .. s_cluster]);

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Be("eplb: error: simulate needs a series of at least 2 windows: each plan is judged on the window after it\n");
    }

    private JsonElement Plan(int step, params string[] extra)
    {
        string output = _dir.File($"plan{step}{(extra.Length > 0 && extra[0] == "--previous" ? "-relabelled" : "")}.json");
        CliResult result = CliRunner.Run(["rebalance", "--weights", Series, "--step", step.ToString(), .. s_cluster, .. extra, "--output", output]);
        result.ExitCode.Should().Be(0, result.Stderr);
        return JsonDocument.Parse(File.ReadAllText(output)).RootElement;
    }

    private static int[] Slots(JsonElement plan, int layer) => [.. plan.GetProperty("phy2log")[layer].EnumerateArray().Select(c => c.GetInt32())];

    private static double[] Layers(JsonElement plan, string field) => [.. plan.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty(field).GetDouble())];
}
