using System.Diagnostics;
using FluentAssertions;
using Xunit;

namespace Eplb.Cli.Tests;

/// <summary>
/// Every kind of path a user may give as an output: what is on disk afterwards (file type, link, content) and what
/// was printed. Nothing a user points at is destroyed or misplaced.
/// </summary>
public sealed class OutputSafetyTests : IDisposable
{
    private static readonly string[] s_cluster = ["--replicas", "16", "--groups", "4", "--nodes", "2", "--gpus", "8"];
    private readonly TempDir _dir = new();
    private readonly string _loads;

    public OutputSafetyTests()
    {
        _loads = _dir.File("loads.json");
        File.WriteAllText(_loads, "[[90, 132, 40, 61, 104, 165, 39, 4], [20, 107, 104, 64, 19, 197, 187, 157]]");
    }

    public void Dispose() => _dir.Dispose();

    private CliResult Rebalance(params string[] extra) => CliRunner.Run(["rebalance", "--weights", _loads, .. s_cluster, .. extra]);

    [Fact]
    public void Rebalance_OutputDash_WritesThePlanToStandardOutputOnly()
    {
        CliResult result = Rebalance("--output", "-", "--format", "json");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().StartWith("{\"policy\":\"hierarchical\"").And.NotContain("wrote");
        Directory.GetFiles(_dir.Path).Should().Equal(_loads);
    }

    [Fact]
    public void Rebalance_OutputDevStdout_ReachesTheProcessStandardOutput()
    {
        // A real process, whose /dev/stdout is the pipe this test reads: the plan arrives there, alone.
        string tool = Path.Combine(AppContext.BaseDirectory, "Eplb.Cli.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", tool, "rebalance", "--weights", _loads, .. s_cluster, "--output", "/dev/stdout", "--format", "json"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        process.ExitCode.Should().Be(0, process.StandardError.ReadToEnd());
        stdout.Should().StartWith("{\"policy\"").And.NotContain("wrote");
        new FileInfo("/dev/stdout").LinkTarget.Should().NotBeNull("/dev/stdout is still the link it was");
    }

    [Fact]
    public void Rebalance_OutputSymlink_WritesThroughToTheTargetAndKeepsTheLink()
    {
        string target = _dir.File("real-plan.json"), link = _dir.File("plan.json");
        File.WriteAllText(target, "old");
        File.CreateSymbolicLink(link, target);

        CliResult result = Rebalance("--output", link);

        result.ExitCode.Should().Be(0, result.Stderr);
        new FileInfo(link).LinkTarget.Should().Be(target, "the link is kept");
        File.ReadAllText(target).Should().StartWith("{\"policy\"", "the extension .json picks JSON; the target holds the plan");
        Directory.GetFiles(_dir.Path).Should().BeEquivalentTo([_loads, target, link], "no temporary file is left");
    }

    [Fact]
    public async Task Rebalance_OutputFifo_WritesThePlanIntoThePipe()
    {
        string fifo = _dir.File("plan.fifo.json");
        Process.Start("mkfifo", fifo).WaitForExit();
        Task<string> reader = Task.Run(() => File.ReadAllText(fifo));

        CliResult result = Rebalance("--output", fifo);

        result.ExitCode.Should().Be(0, result.Stderr);
        (await reader.WaitAsync(TimeSpan.FromSeconds(10))).Should().StartWith("{\"policy\"");
        FileKinds.Of(fifo).Should().Be(FileKind.Special, "the FIFO is still a FIFO");
        result.Stdout.Should().NotContain("wrote", "like a shell redirect, a pipe is written silently");
    }

    [Fact]
    public void Rebalance_OutputDeviceNode_WritesThroughAndKeepsTheDevice()
    {
        // A private null device; making one needs root, which operators often are (and CI is). Elsewhere /dev/null.
        string device = MakeCharacterDevice("null", 1, 3) ?? "/dev/null";

        CliResult result = Rebalance("--output", device, "--svg", _dir.File("plan.svg"));

        result.ExitCode.Should().Be(0, result.Stderr);
        FileKinds.Of(device).Should().Be(FileKind.Special);
        File.Exists(device + ".tmp-eplb").Should().BeFalse();
        File.ReadAllText(_dir.File("plan.svg")).Should().StartWith("<svg");
    }

    [Fact]
    public void Rebalance_OutputFullDevice_FailsAndWritesNoOtherFile()
    {
        string device = MakeCharacterDevice("full", 1, 7) ?? "/dev/full";

        CliResult result = Rebalance("--output", device, "--svg", _dir.File("plan.svg"));

        result.ExitCode.Should().Be(1);
        result.Stderr.Should().Be($"eplb: error: cannot write {device}: No space left on device\n");
        FileKinds.Of(device).Should().Be(FileKind.Special, "the device is not replaced by a file");
        File.Exists(_dir.File("plan.svg")).Should().BeFalse("a failed run leaves nothing behind");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rebalance_OutputAndSvgNameOneFile_IsRefusedBeforeAnyWork(bool throughALink)
    {
        string file = _dir.File("a.json"), other = file;
        File.WriteAllText(file, "keep me");
        if (throughALink)
        {
            other = _dir.File("b.json");
            File.CreateSymbolicLink(other, file);
        }

        CliResult result = Rebalance("--output", file, "--svg", other);

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Match("eplb: error: --svg and --output name the same file*");
        File.ReadAllText(file).Should().Be("keep me");
    }

    [Theory]
    [InlineData("plan.json", "{\"policy\"")]
    [InlineData("plan.csv", "layer,slot,gpu,node,expert,replica,load")]
    [InlineData("plan.txt", "2 layers x 8 experts")]
    [InlineData("plan.out", "2 layers x 8 experts")]
    public void Rebalance_OutputWithoutFormat_WritesTheFormatOfItsExtension(string name, string start)
    {
        CliResult result = Rebalance("--output", _dir.File(name));

        result.ExitCode.Should().Be(0, result.Stderr);
        File.ReadAllText(_dir.File(name)).Should().StartWith(start);
    }

    [Fact]
    public void Rebalance_FormatContradictingTheExtension_IsRefused()
    {
        CliResult result = Rebalance("--output", _dir.File("plan.csv"), "--format", "json");

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Match("*--format json contradicts --output *plan.csv*");
        File.Exists(_dir.File("plan.csv")).Should().BeFalse();
    }

    [Fact]
    public void Rebalance_NpyAndNpzOutputs_HoldTheReferenceTensorsAsInt64()
    {
        RebalancePlan expected = ExpertLoadBalancer.RebalanceExperts(LoadReader.Read(_loads, TextReader.Null).Pick(null).Values, 2, 16, 4, 2, 8);

        Rebalance("--output", _dir.File("plan.npy")).ExitCode.Should().Be(0);
        Rebalance("--output", _dir.File("plan.npz")).ExitCode.Should().Be(0);

        NpyArray phy2log = NpyArray.Parse(File.ReadAllBytes(_dir.File("plan.npy")));
        phy2log.Descr.Should().Be("<i8");
        phy2log.Shape.Should().Equal(2, 16);
        phy2log.Values.Should().Equal(Flatten(expected.PhysicalToLogical));

        using var zip = new System.IO.Compression.ZipArchive(File.OpenRead(_dir.File("plan.npz")));
        zip.Entries.Select(e => e.Name).Should().Equal("phy2log.npy", "log2phy.npy", "logcnt.npy");
        NpyArray log2phy = NpyArray.Parse(ReadEntry(zip, "log2phy.npy"));
        log2phy.Shape.Should().Equal(2, 8, expected.MaxReplicaCount);
        log2phy.Values.Should().Equal(Flatten(expected.LogicalToPhysical));
        NpyArray.Parse(ReadEntry(zip, "logcnt.npy")).Values.Should().Equal(Flatten(expected.LogicalReplicaCount));
    }

    [Fact]
    public void Rebalance_NpyToStandardOutput_IsRefused() =>
        Rebalance("--output", "-", "--format", "npy").Stderr.Should().Match("*npy is binary; write it to a file*");

    [Fact]
    public void Rebalance_OutputEndingInASeparator_SaysToNameAFile() =>
        Rebalance("--output", _dir.File("outdir") + "/").Stderr.Should().Match("*outdir/: ends with a directory separator; name a file*");

    [Fact]
    public void Rebalance_OutputInAMissingDirectory_NamesTheDirectory() =>
        Rebalance("--output", _dir.File("missing/plan.json")).Stderr.Should().Match("*plan.json: the directory *missing does not exist*");

    [Fact]
    public void Rebalance_OutputExistingDirectory_SaysItIsADirectory() =>
        Rebalance("--output", _dir.Path).Stderr.Should().Match("*: is a directory; name a file in it*");

    [Fact]
    public void Generate_OutputDash_PrintsJsonThatRebalanceReadsBack()
    {
        CliResult generated = CliRunner.Run("generate", "--layers", "2", "--experts", "8", "--output", "-");

        generated.Stdout.Should().StartWith("{\"weights\"");
        CliRunner.RunWithInput(generated.Stdout, ["rebalance", "--weights", "-", .. s_cluster]).ExitCode.Should().Be(0);
    }

    private static long[] Flatten(System.Numerics.Tensors.ReadOnlyTensorSpan<int> tensor)
    {
        var values = new int[tensor.FlattenedLength];
        tensor.FlattenTo(values);
        return values.Select(v => (long)v).ToArray();
    }

    private static byte[] ReadEntry(System.IO.Compression.ZipArchive zip, string name)
    {
        using var stream = new MemoryStream();
        zip.GetEntry(name)!.Open().CopyTo(stream);
        return stream.ToArray();
    }

    // mknod needs root; returns null where it cannot be made.
    private string? MakeCharacterDevice(string name, int major, int minor)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return null;
        }

        string path = _dir.File(name);
        using var mknod = Process.Start(new ProcessStartInfo("mknod", [path, "c", $"{major}", $"{minor}"]) { RedirectStandardError = true })!;
        mknod.WaitForExit();
        return mknod.ExitCode == 0 ? path : null;
    }
}
