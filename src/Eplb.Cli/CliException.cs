namespace Eplb.Cli;

/// <summary>A failure the user can fix, reported as one line and an exit code: 2 for usage, 1 for bad data.</summary>
internal sealed class CliException(string message, int exitCode) : Exception(message)
{
    public const int UsageExitCode = 2;
    public const int DataExitCode = 1;

    public int ExitCode { get; } = exitCode;

    public static CliException Usage(string message) => new(message, UsageExitCode);

    public static CliException BadData(string message) => new(message, DataExitCode);
}
