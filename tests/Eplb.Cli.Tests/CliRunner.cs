namespace Eplb.Cli.Tests;

/// <summary>Runs the tool in-process, as the shell would, capturing what it prints.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);

internal static class CliRunner
{
    public static CliResult Run(params string[] args) => RunWithInput("", args);

    public static CliResult RunWithInput(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = EplbApp.Run(args, stdout, stderr, new StringReader(stdin));
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>A scratch directory per test, removed afterwards.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "eplb-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
