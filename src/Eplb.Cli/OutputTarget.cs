namespace Eplb.Cli;

/// <summary>A checked output path: what it names and how it will be written (see <see cref="OutputFiles"/>).</summary>
internal sealed class OutputTarget
{
    private OutputTarget(string path, string option, FileKind kind, string fullPath, string identity)
    {
        Path = path;
        Option = option;
        Kind = kind;
        FullPath = fullPath;
        Identity = identity;
    }

    /// <summary>The path as the user typed it.</summary>
    public string Path { get; }

    /// <summary>The option that named it.</summary>
    public string Option { get; }

    public FileKind Kind { get; }

    public string FullPath { get; }

    /// <summary>What two outputs must not share: the file finally written.</summary>
    public string Identity { get; }

    public bool IsStandardOutput => Path == "-";

    /// <summary>A regular file, announced with "wrote …"; other targets are written silently, like a redirect.</summary>
    public bool IsFile => Kind is FileKind.Regular or FileKind.Missing;

    /// <summary>The extension that picks a format, lower case; empty for standard output.</summary>
    public string Extension => IsStandardOutput ? "" : System.IO.Path.GetExtension(Path).ToLowerInvariant();

    public static OutputTarget Of(string path, string option)
    {
        if (path == "-")
        {
            return new OutputTarget(path, option, FileKind.Special, "-", "-");
        }

        if (path.Length == 0)
        {
            throw CliException.Usage($"{option} needs a path, or - for standard output");
        }

        string full = System.IO.Path.GetFullPath(path);
        FileKind kind = FileKinds.Of(path);
        if (kind == FileKind.Directory)
        {
            throw CliException.Usage($"{option} {path}: is a directory; name a file in it");
        }

        if (path.EndsWith(System.IO.Path.DirectorySeparatorChar) || path.EndsWith(System.IO.Path.AltDirectorySeparatorChar))
        {
            throw CliException.Usage($"{option} {path}: ends with a directory separator; name a file");
        }

        string identity = full;
        if (kind == FileKind.SymbolicLink)
        {
            FileSystemInfo? final = File.ResolveLinkTarget(path, returnFinalTarget: true);
            identity = final is null ? full : System.IO.Path.GetFullPath(final.FullName);
            if (final is not null && FileKinds.Of(identity) == FileKind.Directory)
            {
                throw CliException.Usage($"{option} {path}: links to a directory; name a file");
            }
        }
        else if (kind == FileKind.Missing)
        {
            string? directory = System.IO.Path.GetDirectoryName(full);
            if (directory is not null && !Directory.Exists(directory))
            {
                throw CliException.Usage($"{option} {path}: the directory {directory} does not exist");
            }
        }

        return new OutputTarget(path, option, kind, full, identity);
    }
}
