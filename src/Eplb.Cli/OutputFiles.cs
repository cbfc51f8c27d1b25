namespace Eplb.Cli;

/// <summary>
/// Files a command writes, committed only once everything has been computed and rendered, so a failed run
/// leaves no output behind; each is written to a temporary file beside its target and then moved into place.
/// </summary>
internal sealed class OutputFiles
{
    private readonly List<(string Path, byte[] Content)> _pending = [];

    public void Add(string path, byte[] content) => _pending.Add((path, content));

    public void Commit()
    {
        var written = new List<string>();
        string current = "";
        try
        {
            foreach ((string path, byte[] content) in _pending)
            {
                current = path;
                string temp = Temp(path);
                File.WriteAllBytes(temp, content);
                written.Add(temp);
            }

            foreach ((string path, _) in _pending)
            {
                current = path;
                File.Move(Temp(path), Path.GetFullPath(path), overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach (string temp in written)
            {
                File.Delete(temp);
            }

            string reason = e is DirectoryNotFoundException ? "its directory does not exist" : e.Message.Replace(Temp(current), current, StringComparison.Ordinal);
            throw CliException.BadData($"cannot write {current}: {reason}");
        }
    }

    private static string Temp(string path) => Path.GetFullPath(path) + ".tmp-eplb";
}
