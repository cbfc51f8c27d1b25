using System.IO.Compression;
using System.Text.Json;

namespace Eplb.Cli;

/// <summary>A placement as read from a file: <c>phy2log</c>, row-major <c>[Layers, Slots]</c>; -1 for slots on unavailable GPUs.</summary>
internal sealed record Placement(string Source, int[] Values, int Layers, int Slots)
{
    /// <summary>Refuses a placement that does not fit the loads and the cluster, naming what differs.</summary>
    public void ThrowIfNotFor(LoadMatrix loads, int replicas, string option)
    {
        if (Layers != loads.Layers || Slots != replicas)
        {
            throw CliException.BadData($"{option} {Source}: phy2log is [{Layers}, {Slots}], but the loads have {loads.Layers} layers and --replicas is {replicas}");
        }

        for (int i = 0; i < Values.Length; i++)
        {
            if (Values[i] < -1 || Values[i] >= loads.Experts)
            {
                throw CliException.BadData($"{option} {Source}: layer {i / Slots}, slot {i % Slots} holds expert {Values[i]}, but the loads have experts 0 to {loads.Experts - 1} (-1: unavailable)");
            }
        }
    }
}

/// <summary>
/// Reads the <c>phy2log</c> of a placement in force: any JSON object with a <c>"phy2log"</c> member (ours, or a
/// Python server's <c>json.dump({"phy2log": phy2log.tolist()})</c>) or a bare 2-D array; a 2-D integer <c>.npy</c>
/// (<c>np.save("plan.npy", phy2log)</c>, or ours); or the <c>phy2log</c> member of a <c>.npz</c>.
/// </summary>
internal static class PlacementReader
{
    public static Placement Read(string path, string option)
    {
        if (Directory.Exists(path))
        {
            throw CliException.Usage($"{option} {path}: is a directory; name a .json, .npy or .npz plan");
        }

        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".json" or ".npy" or ".npz"))
        {
            throw CliException.Usage($"{option} {path}: use a .json plan (an object with \"phy2log\"), a .npy of phy2log or a .npz holding phy2log");
        }

        byte[] bytes = LoadReader.ReadFile(path, $"{option} {path}");

        return extension switch
        {
            ".json" => FromJson(bytes, path, option),
            ".npy" => FromNpy(bytes, path, option),
            _ => FromNpz(bytes, path, option),
        };
    }

    private static Placement FromJson(byte[] bytes, string source, string option)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes.AsMemory(bytes.AsSpan().StartsWith<byte>([0xEF, 0xBB, 0xBF]) ? 3 : 0),
                new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw CliException.BadData($"{option} {source}: malformed JSON at line {(e.LineNumber ?? 0) + 1}");
        }

        using (doc)
        {
            JsonElement rows = doc.RootElement;
            if (rows.ValueKind == JsonValueKind.Object && !rows.TryGetProperty("phy2log", out rows))
            {
                throw CliException.BadData($"{option} {source}: a JSON plan must have a \"phy2log\" member, [layers][slots] expert ids");
            }

            if (rows.ValueKind != JsonValueKind.Array || rows.GetArrayLength() == 0)
            {
                throw CliException.BadData($"{option} {source}: phy2log must be a non-empty 2-D array, [layers][slots]");
            }

            int layers = rows.GetArrayLength(), slots = -1;
            var values = new List<int>();
            foreach (JsonElement row in rows.EnumerateArray())
            {
                int layer = values.Count / Math.Max(slots, 1);
                if (row.ValueKind != JsonValueKind.Array || (slots >= 0 && row.GetArrayLength() != slots))
                {
                    throw CliException.BadData($"{option} {source}: phy2log layer {layer} is not an array of {(slots < 0 ? "expert ids" : $"{slots} expert ids, as layer 0")}");
                }

                slots = row.GetArrayLength();
                foreach (JsonElement cell in row.EnumerateArray())
                {
                    if (cell.ValueKind != JsonValueKind.Number || !cell.TryGetInt32(out int expert))
                    {
                        throw CliException.BadData($"{option} {source}: phy2log layer {layer} holds {cell.GetRawText()}, not an expert id");
                    }

                    values.Add(expert);
                }
            }

            if (slots == 0)
            {
                throw CliException.BadData($"{option} {source}: phy2log has no slots");
            }

            return new Placement(source, [.. values], layers, slots);
        }
    }

    private static Placement FromNpy(byte[] bytes, string source, string option)
    {
        LoadData data = LoadReader.ReadNpy(bytes, $"{option} {source}");
        if (data.IsSeries)
        {
            throw CliException.BadData($"{option} {source}: phy2log must be 2-D, [layers, slots]; this array is 3-D");
        }

        LoadMatrix m = data.Steps[0];
        var values = new int[m.Values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = m.Values[i];
            if (v != MathF.Round(v) || v < int.MinValue || v > int.MaxValue)
            {
                throw CliException.BadData($"{option} {source}: layer {i / m.Experts}, slot {i % m.Experts} holds {v}, not an expert id");
            }

            values[i] = (int)v;
        }

        return new Placement(source, values, m.Layers, m.Experts);
    }

    private static Placement FromNpz(byte[] bytes, string source, string option)
    {
        try
        {
            using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
            ZipArchiveEntry entry = zip.GetEntry("phy2log.npy")
                ?? throw CliException.BadData($"{option} {source}: the archive holds no phy2log.npy");
            using var member = new MemoryStream();
            using (Stream stream = entry.Open())
            {
                stream.CopyTo(member);
            }

            return FromNpy(member.ToArray(), source, option);
        }
        catch (InvalidDataException)
        {
            throw CliException.BadData($"{option} {source}: not a .npz archive");
        }
    }
}
