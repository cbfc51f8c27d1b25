using System.Text.Json;
using System.Xml.Linq;
using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Cli.Tests;

/// <summary>The commands as a user runs them: the sample, tables, CSV, SVG, generate and bench.</summary>
public sealed class CommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Eplb_NoArguments_RunsTheSampleAndExplainsIt()
    {
        CliResult result = CliRunner.Run();

        result.ExitCode.Should().Be(0);
        result.Stderr.Should().BeEmpty();
        result.Stdout.Should().Contain("58 MoE layers x 256 experts").And.Contain("32 GPUs in 4 nodes").And.Contain("288 physical expert slots")
            .And.Contain("hierarchical").And.Contain("1.0 is perfect").And.Contain("Rebalance time")
            .And.Contain("ms  into reused buffers (TryRebalanceExperts").And.Contain("ms  returning a new plan each call (RebalanceExperts)");
        double before = Number(result.Stdout, "before"), after = Number(result.Stdout, "after");
        before.Should().BeInRange(0.3, 0.8);
        after.Should().BeGreaterThan(before + 0.2).And.BeLessThanOrEqualTo(1.0);
    }

    [Fact]
    public void Eplb_Help_ShowsCommandsAndExamples()
    {
        CliResult result = CliRunner.Run("--help");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Contain("rebalance").And.Contain("generate").And.Contain("bench").And.Contain("Examples:");
    }

    [Theory]
    [InlineData("rebalance")]
    [InlineData("generate")]
    [InlineData("bench")]
    public void Command_Help_ShowsOptionsAndExamples(string command)
    {
        CliResult result = CliRunner.Run(command, "--help");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Contain("Examples:").And.Contain($"eplb {command}");
    }

    [Fact]
    public void Rebalance_Table_FitsIn80ColumnsAndSummarisesManyLayers()
    {
        string loads = Generate("loads.npy", "--layers", "58", "--experts", "256");
        CliResult result = CliRunner.Run("rebalance", "--weights", loads, "--replicas", "288", "--groups", "8", "--nodes", "4", "--gpus", "32");

        result.ExitCode.Should().Be(0);
        string[] lines = result.Stdout.Split('\n');
        lines.Should().OnlyContain(l => l.Length <= 80);
        lines.Should().Contain(l => l.Contains("10 least balanced of 58 layers"));
        lines.Should().Contain(l => l.StartsWith("node load, all layers:"));
        lines.Count(l => l.Length > 5 && char.IsDigit(l[4]) && l.Contains("gpu")).Should().Be(10);
    }

    [Fact]
    public void Rebalance_Csv_HasOneRowPerSlotWithConsistentColumns()
    {
        string loads = Generate("loads.json", "--layers", "3", "--experts", "16");
        CliResult result = CliRunner.Run("rebalance", "--weights", loads, "--replicas", "24", "--groups", "4", "--nodes", "2", "--gpus", "8", "--format", "csv");

        result.ExitCode.Should().Be(0);
        string[] rows = result.Stdout.TrimEnd('\n').Split('\n');
        rows[0].Should().Be("layer,slot,gpu,node,expert,replica,load");
        rows.Should().HaveCount(1 + (3 * 24));
        foreach (string row in rows.Skip(1))
        {
            int[] f = row.Split(',').Take(6).Select(int.Parse).ToArray();
            f[2].Should().Be(f[1] / 3, "3 slots per GPU");
            f[3].Should().Be(f[2] / 4, "4 GPUs per node");
        }
    }

    [Fact]
    public void Rebalance_Svg_IsXmlWithOneSlotElementPerPhysicalExpertPerDrawnLayer()
    {
        string loads = Generate("loads.npy", "--layers", "58", "--experts", "256");
        string svg = _dir.File("plan.svg");
        CliResult result = CliRunner.Run("rebalance", "--weights", loads, "--replicas", "288", "--groups", "8", "--nodes", "4", "--gpus", "32",
            "--svg", svg, "--layers", "0-2,7");

        result.ExitCode.Should().Be(0);
        XDocument doc = XDocument.Load(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        doc.Root!.Name.Should().Be(ns + "svg");
        List<XElement> slots = doc.Descendants(ns + "g").Where(IsSlot).ToList();
        slots.Should().HaveCount(288 * 4);
        slots.Select(s => (int)s.Attribute("data-layer")!).Distinct().Should().BeEquivalentTo([0, 1, 2, 7]);
        doc.Descendants(ns + "g").Count(g => (string?)g.Attribute("class") == "node").Should().Be(4);
        doc.Descendants(ns + "g").Count(g => (string?)g.Attribute("class") == "gpu").Should().Be(32);
    }

    [Fact]
    public void Rebalance_SvgOfFewLayers_DrawsThemAll()
    {
        string loads = Generate("loads.csv", "--layers", "2", "--experts", "12");
        string svg = _dir.File("plan.svg");
        CliRunner.Run("rebalance", "--weights", loads, "--replicas", "16", "--groups", "4", "--nodes", "2", "--gpus", "8", "--svg", svg).ExitCode.Should().Be(0);

        XDocument.Load(svg).Descendants().Count(IsSlot).Should().Be(2 * 16);
    }

    [Theory]
    [InlineData(288, 8, 4, 32)]
    [InlineData(320, 8, 40, 320)]
    [InlineData(288, 8, 18, 144)]
    public void Rebalance_SvgOfManyGpus_StaysReadableAndSaysWhatIsInIt(int replicas, int groups, int nodes, int gpus)
    {
        string loads = Generate("loads.npy", "--layers", "4", "--experts", "256");
        string svg = _dir.File("plan.svg");
        CliRunner.Run("rebalance", "--weights", loads, "--replicas", $"{replicas}", "--groups", $"{groups}", "--nodes", $"{nodes}", "--gpus", $"{gpus}", "--svg", svg)
            .ExitCode.Should().Be(0);
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(LoadReader.Read(loads, TextReader.Null).Pick(null).Values, 4, replicas, groups, nodes, gpus);

        XDocument doc = XDocument.Load(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        ((int)doc.Root!.Attribute("width")!).Should().BeLessThan(1800, "nodes and GPUs wrap into rows");
        doc.Descendants(ns + "g").Count(g => (string?)g.Attribute("class") == "legend").Should().Be(1);
        doc.Descendants(ns + "text").Count(t => (string?)t.Attribute("class") == "layer-summary").Should().Be(4, "each drawn layer's balancedness");
        doc.Descendants(ns + "text").Count(t => (string?)t.Attribute("class") == "gpu-load").Should().Be(4 * gpus, "each GPU's load in each layer");
        foreach (XElement slot in doc.Descendants(ns + "g").Where(IsSlot))
        {
            int layer = (int)slot.Attribute("data-layer")!, expert = (int)slot.Attribute("data-expert")!;
            bool replicated = plan.GetLogicalReplicaCount(layer)[expert] > 1;
            ((string)slot.Attribute("class")!).Contains("replicated", StringComparison.Ordinal).Should().Be(replicated);
        }

        foreach (XElement gpu in doc.Descendants(ns + "g").Where(g => (string?)g.Attribute("class") == "gpu"))
        {
            // The label, about 0.6 em a character at 11 points, fits inside the GPU's box.
            XElement box = gpu.Element(ns + "rect")!, label = gpu.Element(ns + "text")!;
            double labelEnd = (double)label.Attribute("x")! + (label.Value.Length * 11 * 0.6);
            labelEnd.Should().BeLessThanOrEqualTo((double)box.Attribute("x")! + (double)box.Attribute("width")!, label.Value);
        }
    }

    private static bool IsSlot(XElement e) => ((string?)e.Attribute("class"))?.Split(' ').Contains("slot") == true;

    [Theory]
    [InlineData("series.json")]
    [InlineData("series.npy")]
    [InlineData("series.csv")]
    public void Generate_Series_WritesEveryStep(string name)
    {
        string path = _dir.File(name);
        CliResult result = CliRunner.Run("generate", "--layers", "3", "--experts", "16", "--groups", "4", "--group-correlation", "--steps", "5", "--seed", "9", "--output", path);

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Contain("5 windows of 3 layers x 16 experts");
        float[][,] expected = ExpertLoadGenerator.GenerateSeries(5, 3, 16, 9, 4, groupCorrelation: true);
        if (name.EndsWith(".json", StringComparison.Ordinal))
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            doc.RootElement.GetProperty("steps").GetArrayLength().Should().Be(5);
            doc.RootElement.GetProperty("steps")[4][2][15].GetSingle().Should().Be(expected[4][2, 15]);
        }
        else if (name.EndsWith(".csv", StringComparison.Ordinal))
        {
            string[] lines = File.ReadAllLines(path);
            lines.Should().HaveCount(1 + (5 * 3));
            lines[^1].Split(',')[..3].Should().Equal("4", "2", $"{expected[4][2, 0]}");
        }
        else
        {
            byte[] bytes = File.ReadAllBytes(path);
            System.Text.Encoding.Latin1.GetString(bytes, 10, 70).Should().Contain("'shape': (5, 3, 16)");
            bytes.Length.Should().Be(128 + (5 * 3 * 16 * 4));
        }
    }

    [Theory]
    [InlineData("loads.json")]
    [InlineData("loads.csv")]
    [InlineData("loads.npy")]
    public void Generate_ThenRebalance_RoundTripsTheLoads(string name)
    {
        string path = Generate(name, "--layers", "4", "--experts", "32", "--seed", "3");
        CliResult result = CliRunner.Run("rebalance", "--weights", path, "--replicas", "40", "--groups", "4", "--nodes", "2", "--gpus", "8", "--format", "json");

        result.ExitCode.Should().Be(0);
        RebalancePlan expected = ExpertLoadBalancer.RebalanceExperts(ExpertLoadGenerator.Generate(4, 32, 3), 40, 4, 2, 8);
        using JsonDocument doc = JsonDocument.Parse(result.Stdout);
        doc.RootElement.GetProperty("phy2log")[3].EnumerateArray().Select(e => e.GetInt32()).Should().Equal(expected.GetPhysicalToLogical(3).ToArray());
    }

    [Fact]
    public void Rebalance_Output_WritesTheFileAndConfirms()
    {
        string loads = Generate("loads.json", "--layers", "2", "--experts", "8");
        string plan = _dir.File("plan.json");
        CliResult result = CliRunner.Run("rebalance", "--weights", loads, "--replicas", "8", "--groups", "1", "--nodes", "1", "--gpus", "4", "--format", "json", "--output", plan);

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Contain("wrote the plan").And.Contain(plan);
        JsonDocument.Parse(File.ReadAllText(plan)).RootElement.GetProperty("logcnt").GetArrayLength().Should().Be(2);
    }

    [Fact]
    public void Bench_Json_ReportsMedianMinAndIterations()
    {
        CliResult result = CliRunner.Run("bench", "--layers", "4", "--experts", "64", "--replicas", "72", "--groups", "8", "--nodes", "2", "--gpus", "8",
            "--iterations", "20", "--threads", "2", "--format", "json");

        result.ExitCode.Should().Be(0);
        using JsonDocument doc = JsonDocument.Parse(result.Stdout);
        doc.RootElement.GetProperty("iterations").GetInt32().Should().Be(20);
        double median = doc.RootElement.GetProperty("median_us").GetDouble(), min = doc.RootElement.GetProperty("min_us").GetDouble();
        min.Should().BePositive();
        median.Should().BeGreaterThanOrEqualTo(min);
        doc.RootElement.GetProperty("threads").GetInt32().Should().Be(2);
    }

    private string Generate(string name, params string[] options)
    {
        string path = _dir.File(name);
        CliRunner.Run(["generate", .. options, "--output", path]).ExitCode.Should().Be(0);
        return path;
    }

    private static double Number(string text, string label)
    {
        string line = text.Split('\n').First(l => l.TrimStart().StartsWith(label + " ", StringComparison.Ordinal));
        return double.Parse(line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
