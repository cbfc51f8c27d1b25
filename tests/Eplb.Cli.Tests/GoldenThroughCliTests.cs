using System.Globalization;
using System.Text;
using System.Text.Json;
using Eplb.Tests;
using FluentAssertions;
using Xunit;

namespace Eplb.Cli.Tests;

/// <summary>Every reference case through the tool: JSON, CSV and .npy in, the reference's three outputs out.</summary>
public class GoldenThroughCliTests
{
    public static TheoryData<string> Cases => GoldenCases.Names();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rebalance_JsonInput_PrintsReferenceOutputs(string name)
    {
        GoldenCase c = GoldenCases.Get(name);
        using var dir = new TempDir();
        string path = dir.File("loads.json");
        File.WriteAllText(path, "{\"weights\": " + JsonSerializer.Serialize(Rows(c.Weights)) + "}");

        AssertMatches(c, Rebalance(c, path));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rebalance_CsvInputWithHeader_PrintsReferenceOutputs(string name)
    {
        GoldenCase c = GoldenCases.Get(name);
        using var dir = new TempDir();
        string path = dir.File("loads.csv");
        var csv = new StringBuilder(string.Join(",", Enumerable.Range(0, c.NumExperts).Select(e => $"e{e}"))).Append("\r\n");
        foreach (float[] row in Rows(c.Weights))
        {
            csv.AppendLine(string.Join(",", row.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        }

        File.WriteAllText(path, csv.ToString());
        AssertMatches(c, Rebalance(c, path));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rebalance_NpyFloat32Input_PrintsReferenceOutputs(string name)
    {
        GoldenCase c = GoldenCases.Get(name);
        using var dir = new TempDir();
        string path = dir.File("loads.npy");
        File.WriteAllBytes(path, NpyBytes.Create(c.Weights, "<f4"));

        AssertMatches(c, Rebalance(c, path));
    }

    [Theory]
    [InlineData("<f8", false, 1)]
    [InlineData("<i4", false, 1)]
    [InlineData("<i8", false, 2)]
    [InlineData("<f4", true, 1)]
    [InlineData("<f8", true, 3)]
    public void Rebalance_NpyOtherDtypesAndLayouts_PrintsReferenceOutputs(string descr, bool fortranOrder, int version)
    {
        // Integer dtypes hold token counts; use every case whose loads are whole numbers.
        foreach (GoldenCase c in GoldenCases.All.Where(c => c.FlatWeights().All(v => v == MathF.Floor(v))).Take(40))
        {
            using var dir = new TempDir();
            string path = dir.File("loads.npy");
            File.WriteAllBytes(path, NpyBytes.Create(c.Weights, descr, fortranOrder, version));
            AssertMatches(c, Rebalance(c, path));
        }
    }

    [Fact]
    public void Rebalance_JsonOnStandardInput_PrintsReferenceOutputs()
    {
        GoldenCase c = GoldenCases.All[7];
        CliResult result = CliRunner.RunWithInput(JsonSerializer.Serialize(Rows(c.Weights)),
            "rebalance", "--weights", "-", "--replicas", $"{c.NumReplicas}", "--groups", $"{c.NumGroups}", "--nodes", $"{c.NumNodes}", "--gpus", $"{c.NumGpus}",
            "--tie-order", c.TieOrderOption, "--format", "json");

        AssertMatches(c, result);
    }

    private static CliResult Rebalance(GoldenCase c, string path) =>
        CliRunner.Run("rebalance", "--weights", path, "--replicas", $"{c.NumReplicas}", "--groups", $"{c.NumGroups}",
            "--nodes", $"{c.NumNodes}", "--gpus", $"{c.NumGpus}", "--tie-order", c.TieOrderOption, "--format", "json");

    private static void AssertMatches(GoldenCase c, CliResult result)
    {
        result.Stderr.Should().BeEmpty();
        result.ExitCode.Should().Be(0);
        using JsonDocument doc = JsonDocument.Parse(result.Stdout);
        JsonElement root = doc.RootElement;
        root.GetProperty("policy").GetString().Should().Be(c.Policy == RebalancePolicy.Global ? "global" : "hierarchical");
        root.GetProperty("tie_order").GetString().Should().Be(c.TieOrderOption);
        Flatten(root.GetProperty("phy2log")).Should().Equal(GoldenCase.Flatten<int>(c.PhysicalToLogical), c.Name);
        Flatten(root.GetProperty("log2phy")).Should().Equal(GoldenCase.Flatten<int>(c.LogicalToPhysical), c.Name);
        Flatten(root.GetProperty("logcnt")).Should().Equal(GoldenCase.Flatten<int>(c.LogicalReplicaCount), c.Name);
        root.GetProperty("log2phy")[0][0].GetArrayLength().Should().Be(c.LogicalToPhysical.GetLength(2));
        root.GetProperty("layers").GetArrayLength().Should().Be(c.NumLayers);
    }

    internal static float[][] Rows(float[,] w) =>
        Enumerable.Range(0, w.GetLength(0)).Select(l => Enumerable.Range(0, w.GetLength(1)).Select(e => w[l, e]).ToArray()).ToArray();

    private static List<int> Flatten(JsonElement element)
    {
        var result = new List<int>();
        Walk(element);
        return result;

        void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement child in e.EnumerateArray())
                {
                    Walk(child);
                }
            }
            else
            {
                result.Add(e.GetInt32());
            }
        }
    }
}
