namespace Eplb.Cli;

/// <summary>
/// The files a command writes, checked before any work and written only once everything is rendered, so a run
/// that fails leaves nothing behind and a path a user types is never destroyed.
/// </summary>
/// <remarks>
/// A regular file (or a new one) is written to a temporary file beside it and moved into place, all of them only
/// after every output has been rendered. Anything else is written through, as a shell redirect would: a device
/// (<c>/dev/null</c>, <c>/dev/stdout</c>), a FIFO, or a symbolic link, whose target is written and whose link is
/// kept. <c>-</c> is standard output. Two outputs naming one file, a directory, or a missing directory are
/// refused up front.
/// </remarks>
internal sealed class OutputFiles
{
    private readonly List<Output> _outputs = [];

    /// <summary>Checks an output path before any work; <paramref name="option"/> names it in messages.</summary>
    public OutputTarget Claim(string path, string option)
    {
        var target = OutputTarget.Of(path, option);
        foreach (Output other in _outputs)
        {
            if (other.Target.Identity == target.Identity)
            {
                throw CliException.Usage($"{option} and {other.Target.Option} name the same file ({path}); give each its own");
            }
        }

        _outputs.Add(new Output(target));
        return target;
    }

    /// <summary>The content to write to a claimed target.</summary>
    public void Set(OutputTarget target, byte[] content) => _outputs.Single(o => ReferenceEquals(o.Target, target)).Content = content;

    /// <summary>Writes every output: temporary files first, then devices and standard output, then the renames.</summary>
    public void Commit(TextWriter standardOutput)
    {
        var temporaries = new List<(Output Output, string Temporary)>();
        Output? current = null;
        try
        {
            foreach (Output output in _outputs.Where(o => o.Target.Kind == FileKind.Regular || o.Target.Kind == FileKind.Missing))
            {
                current = output;
                string temporary = output.Target.FullPath + ".tmp-eplb";
                temporaries.Add((output, temporary));
                File.WriteAllBytes(temporary, output.Content!);
            }

            foreach (Output output in _outputs.Where(o => o.Target.Kind is FileKind.Special or FileKind.SymbolicLink && !o.Target.IsStandardOutput))
            {
                current = output;
                using var stream = new FileStream(output.Target.Path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1 << 16);
                stream.Write(output.Content!);
                stream.Flush(flushToDisk: false);
            }

            foreach (Output output in _outputs.Where(o => o.Target.IsStandardOutput))
            {
                current = output;
                standardOutput.Write(System.Text.Encoding.UTF8.GetString(output.Content!));
                standardOutput.Flush();
            }

            foreach ((Output output, string temporary) in temporaries)
            {
                current = output;
                File.Move(temporary, output.Target.FullPath, overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach ((_, string temporary) in temporaries)
            {
                File.Delete(temporary);
            }

            // .NET appends " : 'path'" to some messages; the path leads the line already.
            string reason = e.Message.Replace(current!.Target.FullPath + ".tmp-eplb", current.Target.Path, StringComparison.Ordinal);
            int pathSuffix = reason.IndexOf(" : '", StringComparison.Ordinal);
            reason = pathSuffix > 0 ? reason[..pathSuffix] : reason;
            throw CliException.BadData($"cannot write {current.Target.Path}: {reason}");
        }
    }

    private sealed class Output(OutputTarget target)
    {
        public OutputTarget Target { get; } = target;

        public byte[]? Content { get; set; }
    }
}
