using FluentAssertions;
using Xunit;

namespace Eplb.Cli.Tests;

/// <summary>Every bad input: one line on stderr, the right exit code, nothing on stdout, no file written.</summary>
public sealed class BadInputTests : IDisposable
{
    private const int Usage = 2, BadData = 1;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private CliResult RebalanceFile(string name, string content, params string[] cluster)
    {
        string path = _dir.File(name);
        File.WriteAllText(path, content);
        return Rebalance(path, cluster);
    }

    private CliResult Rebalance(string path, params string[] cluster)
    {
        string[] sizes = cluster.Length > 0 ? cluster : ["--replicas", "8", "--groups", "1", "--nodes", "1", "--gpus", "4"];
        return CliRunner.Run(["rebalance", "--weights", path, .. sizes, "--output", _dir.File("out.json"), "--svg", _dir.File("out.svg")]);
    }

    private void AssertError(CliResult result, int exitCode, string messagePattern)
    {
        result.ExitCode.Should().Be(exitCode);
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().StartWith("eplb: error: ").And.EndWith("\n");
        result.Stderr.TrimEnd('\n').Should().NotContain("\n", "the error is one line").And.Match(messagePattern);
        result.Stderr.Should().NotContain("   at ", "no stack trace");
        File.Exists(_dir.File("out.json")).Should().BeFalse("nothing is written when a run fails");
        File.Exists(_dir.File("out.svg")).Should().BeFalse();
    }

    [Fact]
    public void Rebalance_UnknownTieOrder_IsAUsageError() =>
        AssertError(RebalanceFile("w.json", "[[1,2,3,4]]", "--replicas", "8", "--groups", "1", "--nodes", "1", "--gpus", "4", "--tie-order", "avx"),
            Usage, "eplb: error: *--tie-order*avx*");

    [Fact]
    public void Rebalance_MissingFile_ReportsTheFile() =>
        AssertError(Rebalance(_dir.File("nope.json")), BadData, "eplb: error: *nope.json: cannot read the file*");

    [Fact]
    public void Rebalance_MalformedJson_ReportsLineAndColumn() =>
        AssertError(RebalanceFile("bad.json", "[[1, 2, 3, 4],\n [4, 5,, 6]]"), BadData, "*bad.json: malformed JSON at line 2, column 8*");

    [Fact]
    public void Rebalance_RaggedJsonRows_ReportsTheLayer() =>
        AssertError(RebalanceFile("ragged.json", "[[1, 2, 3, 4], [1, 2, 3]]"), BadData, "*ragged rows: layer 1 has 3 values but layer 0 has 4*");

    [Fact]
    public void Rebalance_RaggedCsvRows_ReportsTheRow() =>
        AssertError(RebalanceFile("ragged.csv", "1,2,3,4\n1,2,3\n"), BadData, "*ragged rows: line 2 has 3 values but line 1 has 4*");

    [Fact]
    public void Rebalance_NonNumericCsvCell_ReportsLineAndColumn() =>
        AssertError(RebalanceFile("cell.csv", "a,b,c,d\n1,2,3,4\n1,2,x,4\n"), BadData, "*cell.csv: line 3, column 3: 'x' is not a number*");

    [Fact]
    public void Rebalance_NonNumericJsonCell_ReportsThePosition() =>
        AssertError(RebalanceFile("cell.json", "[[1, 2, \"three\", 4]]"), BadData, "*layer 0, expert 2 is not a number*");

    [Fact]
    public void Rebalance_JsonObjectWithoutWeights_SaysWhatIsExpected() =>
        AssertError(RebalanceFile("obj.json", "{\"loads\": [[1, 2]]}"), BadData, "*\"weights\" member*");

    [Theory]
    [InlineData("nan,1,2,3", "NaN")]
    [InlineData("1,inf,2,3", "infinite")]
    [InlineData("1,2,-Infinity,3", "infinite")]
    [InlineData("1,2,3,-4", "negative")]
    public void Rebalance_InvalidLoad_ReportsItsPosition(string row, string problem) =>
        AssertError(RebalanceFile("loads.csv", row + "\n"), BadData, $"*loads.csv: loads must be finite and non-negative*layer 0, expert * is {problem}*");

    [Fact]
    public void Rebalance_EmptyNpy_SaysEmpty() =>
        AssertError(RebalanceFile("empty.npy", ""), BadData, "*empty.npy: the file is empty*");

    [Fact]
    public void Rebalance_TruncatedNpy_SaysHowMuchIsMissing()
    {
        byte[] npy = NpyBytes.Create(new float[2, 4], "<f4");
        File.WriteAllBytes(_dir.File("short.npy"), npy[..^5]);
        AssertError(Rebalance(_dir.File("short.npy")), BadData, "*short.npy: truncated: shape (2, 4) needs 32 bytes of data, the file holds 27*");
    }

    [Fact]
    public void Rebalance_BigEndianNpy_ReportsUnsupportedDtype()
    {
        File.WriteAllBytes(_dir.File("be.npy"), NpyBytes.Create(new float[2, 4], ">f4"));
        AssertError(Rebalance(_dir.File("be.npy")), BadData, "*unsupported dtype '>f4'*");
    }

    [Fact]
    public void Rebalance_NotAnNpyFile_SaysSo() =>
        AssertError(RebalanceFile("text.npy", "hello, world"), BadData, "*not a .npy file*");

    [Fact]
    public void Rebalance_UnsupportedExtension_IsAUsageError() =>
        AssertError(RebalanceFile("loads.txt", "1,2,3,4"), Usage, "*loads.txt: has the unsupported extension '.txt'*");

    [Theory]
    [InlineData("--replicas 6 --groups 1 --nodes 1 --gpus 2", "*--replicas (6) must be at least the number of logical experts (8)*")]
    [InlineData("--replicas 10 --groups 1 --nodes 1 --gpus 4", "*--replicas (10) must be a multiple of --gpus (4)*")]
    [InlineData("--replicas 12 --groups 2 --nodes 2 --gpus 3", "*--gpus (3) must be a multiple of --nodes (2)*")]
    [InlineData("--replicas 8 --groups 3 --nodes 1 --gpus 4", "*--groups (3) must divide the number of logical experts (8) under the hierarchical policy*")]
    [InlineData("--replicas 0 --groups 1 --nodes 1 --gpus 4", "*--replicas must be positive*")]
    [InlineData("--replicas 8 --groups 0 --nodes 1 --gpus 4", "*--groups must be positive*")]
    [InlineData("--replicas 8 --groups 1 --nodes -1 --gpus 4", "*--nodes must be positive*")]
    [InlineData("--replicas 8 --groups 1 --nodes 1 --gpus 0", "*--gpus must be positive*")]
    [InlineData("--replicas 8 --groups 1 --nodes 1", "*missing option --gpus*")]
    [InlineData("--replicas eight --groups 1 --nodes 1 --gpus 4", "*--replicas expects a whole number, not 'eight'*")]
    [InlineData("--replicas 8 --groups 1 --nodes 1 --gpus 4 --format xml", "*'xml' not recognized. Must be one of: 'table' 'json' 'csv'*")]
    [InlineData("--replicas 8 --groups 1 --nodes 1 --gpus 4 --layers 0-9", "*--layers*0-9*outside layers 0-1*")]
    public void Rebalance_InvalidClusterOrOptions_IsAUsageError(string options, string pattern)
    {
        File.WriteAllText(_dir.File("loads.csv"), "1,2,3,4,5,6,7,8\n8,7,6,5,4,3,2,1\n");
        AssertError(Rebalance(_dir.File("loads.csv"), options.Split(' ')), Usage, pattern);
    }

    [Fact]
    public void Rebalance_OutputInMissingDirectory_IsRefusedBeforeAnyWork()
    {
        File.WriteAllText(_dir.File("loads.csv"), "1,2,3,4\n");
        CliResult result = CliRunner.Run("rebalance", "--weights", _dir.File("loads.csv"), "--replicas", "4", "--groups", "1", "--nodes", "1", "--gpus", "4",
            "--output", _dir.File("out.json"), "--svg", _dir.File("no/such/dir/out.svg"));
        AssertError(result, Usage, "*--svg *out.svg: the directory *dir does not exist*");
        Directory.GetFiles(_dir.Path).Should().Equal(_dir.File("loads.csv"));
    }

    [Fact]
    public void Eplb_UnknownCommand_IsAUsageError() =>
        AssertError(CliRunner.Run("frobnicate"), Usage, "*Unrecognized command or argument 'frobnicate'*");

    [Theory]
    [InlineData("--layers 0 --experts 8", "*--layers must be positive*")]
    [InlineData("--layers 2 --experts 9 --groups 2", "*--groups (2) must divide --experts (9)*")]
    [InlineData("--layers 2 --experts 8 --steps 0", "*--steps must be positive*")]
    public void Generate_InvalidSizes_IsAUsageError(string options, string pattern)
    {
        CliResult result = CliRunner.Run(["generate", .. options.Split(' '), "--output", _dir.File("out.json")]);
        AssertError(result, Usage, pattern);
    }

    [Fact]
    public void Generate_UnsupportedOutputType_IsAUsageError() =>
        AssertError(CliRunner.Run("generate", "--layers", "1", "--experts", "4", "--output", _dir.File("out.txt")), Usage, "*--output *out.txt: unsupported file type '.txt'*");

    [Theory]
    [InlineData("--threads 0", "*--threads must be positive or -1*")]
    [InlineData("--iterations 0", "*--iterations must be positive*")]
    public void Bench_InvalidOptions_IsAUsageError(string options, string pattern) =>
        AssertError(CliRunner.Run(["bench", "--layers", "2", "--experts", "8", "--replicas", "8", "--groups", "1", "--nodes", "1", "--gpus", "4", .. options.Split(' ')]), Usage, pattern);
}
