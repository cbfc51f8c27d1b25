using System.Diagnostics;
using System.Globalization;
using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Cli.Tests;

/// <summary>The tool reads what it writes, reads every format by one rule, and speaks in the terms users type.</summary>
public sealed class ReadingAndCommandLineTests : IDisposable
{
    private static readonly string[] s_cluster = ["--replicas", "24", "--groups", "4", "--nodes", "2", "--gpus", "8"];
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("series.csv")]
    [InlineData("series.json")]
    [InlineData("series.npy")]
    public void Rebalance_SeriesWrittenByGenerate_IsRefusedWithoutAStepAndPlannedWithOne(string name)
    {
        string path = _dir.File(name);
        CliRunner.Run("generate", "--layers", "3", "--experts", "16", "--steps", "4", "--seed", "5", "--output", path).ExitCode.Should().Be(0);

        CliResult refused = CliRunner.Run(["rebalance", "--weights", path, .. s_cluster]);
        CliResult planned = CliRunner.Run(["rebalance", "--weights", path, "--step", "2", .. s_cluster, "--format", "json"]);

        refused.ExitCode.Should().Be(2);
        refused.Stderr.Should().Match("*holds a series of 4 steps of 3 layers x 16 experts*pick one with --step 0 to 3*");
        float[,] window = ExpertLoadGenerator.GenerateSeries(4, 3, 16, 5)[2];
        RebalancePlan expected = ExpertLoadBalancer.RebalanceExperts(window, 24, 4, 2, 8);
        planned.ExitCode.Should().Be(0, planned.Stderr);
        planned.Stdout.Should().Contain($"\"phy2log\":[[{string.Join(",", expected.GetPhysicalToLogical(0).ToArray())}]");
    }

    [Fact]
    public void Rebalance_StepOutsideTheSeries_SaysWhichStepsThereAre()
    {
        string path = _dir.File("series.npy");
        CliRunner.Run("generate", "--layers", "2", "--experts", "8", "--steps", "3", "--output", path);

        CliRunner.Run(["rebalance", "--weights", path, "--step", "3", .. s_cluster]).Stderr.Should().Match("*--step 3: *series.npy holds steps 0 to 2*");
    }

    [Fact]
    public void LoadReader_DecimalBetweenTwoFloats_RoundsThroughDoubleInEveryFormat()
    {
        // 1 + 2^-24 + 10^-32: directly to float32 it rounds up to 1.0000001; through double (as NumPy reads text) it
        // first becomes 1 + 2^-24, exactly halfway, and then rounds to even, 1.0. Every format must agree with NumPy.
        const string Text = "1.00000005960464477539062500000001";
        File.WriteAllText(_dir.File("w.csv"), $"{Text},2\n");
        File.WriteAllText(_dir.File("w.json"), $"[[{Text}, 2]]");

        float fromCsv = LoadReader.Read(_dir.File("w.csv"), TextReader.Null).Pick(null).Values[0];
        float fromJson = LoadReader.Read(_dir.File("w.json"), TextReader.Null).Pick(null).Values[0];

        float numpy = (float)double.Parse(Text, CultureInfo.InvariantCulture);
        numpy.Should().Be(1f);
        fromCsv.Should().Be(numpy);
        fromJson.Should().Be(numpy);
    }

    [Theory]
    [InlineData("w.json", "[[1, 2, 3, 4]]")]
    [InlineData("w.csv", "1,2,3,4\n")]
    public void Rebalance_InputWithAByteOrderMark_IsRead(string name, string content)
    {
        File.WriteAllBytes(_dir.File(name), [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(content)]);

        CliResult result = CliRunner.Run("rebalance", "--weights", _dir.File(name), "--replicas", "8", "--groups", "2", "--nodes", "2", "--gpus", "4");

        result.ExitCode.Should().Be(0, result.Stderr);
    }

    [Theory]
    [InlineData("NaN", "NaN")]
    [InlineData("Infinity", "infinite")]
    [InlineData("-Infinity", "infinite")]
    public void Rebalance_PythonJsonNonFiniteToken_IsReportedAsABadLoadWithItsPosition(string token, string problem)
    {
        File.WriteAllText(_dir.File("w.json"), $"{{\"weights\": [[1, 2, 3, 4], [5, 6, {token}, 8]]}}");

        CliResult result = CliRunner.Run("rebalance", "--weights", _dir.File("w.json"), "--replicas", "8", "--groups", "2", "--nodes", "2", "--gpus", "4");

        result.ExitCode.Should().Be(1);
        result.Stderr.Should().Match($"*w.json: loads must be finite and non-negative, but the load of layer 1, expert 2 is {problem}*");
    }

    [Fact]
    public void Rebalance_NanInsideAJsonString_IsNotANumber()
    {
        File.WriteAllText(_dir.File("w.json"), "{\"note\": \"NaN is not a load\", \"weights\": [[1, \"NaNs\", 3, 4]]}");

        CliRunner.Run("rebalance", "--weights", _dir.File("w.json"), "--replicas", "8", "--groups", "2", "--nodes", "2", "--gpus", "4")
            .Stderr.Should().Match("*layer 0, expert 1 is not a number (\"NaNs\")*");
    }

    [Fact]
    public void Rebalance_WeightsNamingADirectory_SaysSo() =>
        CliRunner.Run(["rebalance", "--weights", _dir.Path, .. s_cluster]).Stderr.Should().Match("*: is a directory; name a .json, .csv or .npy file*");

    [Fact]
    public void Rebalance_LayerRangeBackwards_SaysHowToWriteIt()
    {
        File.WriteAllText(_dir.File("w.json"), "[[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4]]");

        CliRunner.Run("rebalance", "--weights", _dir.File("w.json"), "--replicas", "8", "--groups", "2", "--nodes", "2", "--gpus", "4", "--svg", _dir.File("p.svg"), "--layers", "3-1")
            .Stderr.Should().Match("*--layers: '3-1' runs backwards; write the lower layer first, such as 1-3*");
    }

    [Fact]
    public void Rebalance_HugeReplicaCount_FailsInWellUnderASecond()
    {
        string path = _dir.File("v3.npy");
        CliRunner.Run("generate", "--layers", "58", "--experts", "256", "--output", path).ExitCode.Should().Be(0);

        var clock = Stopwatch.StartNew();
        CliResult result = CliRunner.Run("rebalance", "--weights", path, "--replicas", "2880000", "--groups", "8", "--nodes", "4", "--gpus", "32");

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1));
        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Match("*58 layers x --replicas 2880000 = 167,040,000 slots is more than the tool writes out*");
    }

    [Fact]
    public void Help_EveryUsageLine_SaysEplb()
    {
        foreach (string[] args in new[] { new[] { "--help" }, ["rebalance", "--help"], ["generate", "--help"], ["bench", "--help"], ["help", "rebalance"] })
        {
            string text = CliRunner.Run(args).Stdout;
            text.Should().Contain("Usage:\n  eplb", string.Join(' ', args)).And.NotContain("Eplb.Cli").And.NotContain("testhost");
        }
    }

    [Fact]
    public void Help_UnknownCommand_NamesTheCommands() =>
        CliRunner.Run("help", "frob").Stderr.Should().Be("eplb: error: help: no command 'frob'; the commands are rebalance, analyze, simulate, generate, bench, quality, help\n");

    [Fact]
    public void Rebalance_SeveralMissingOptions_AreNamedAtOnce() =>
        CliRunner.Run("rebalance", "--replicas", "8").Stderr.Should().Be("eplb: error: missing options --weights, --groups, --nodes, --gpus\n");

    [Fact]
    public void Rebalance_ReferenceStyleOptionNames_AreAccepted()
    {
        File.WriteAllText(_dir.File("w.json"), "[[1,2,3,4]]");

        CliResult result = CliRunner.Run("rebalance", "--weights", _dir.File("w.json"), "--num-replicas", "8", "--num-groups", "2", "--num-nodes", "2", "--num-gpus", "4");

        result.ExitCode.Should().Be(0, result.Stderr);
    }
}
