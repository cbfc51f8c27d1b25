using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Eplb.Cli;

/// <summary>Reads <c>[layers, experts]</c> loads from .json, .csv or .npy, or JSON from standard input ("-").</summary>
internal static class LoadReader
{
    public static LoadMatrix Read(string path, TextReader stdin)
    {
        if (path == "-")
        {
            return ReadJson(Encoding.UTF8.GetBytes(stdin.ReadToEnd()), "<stdin>");
        }

        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".json" or ".csv" or ".npy"))
        {
            throw CliException.Usage($"{path}: unsupported file type '{extension}'; use .json, .csv or .npy (or - for JSON on standard input)");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.BadData($"{path}: cannot read the file: {e.Message}");
        }

        return extension switch
        {
            ".json" => ReadJson(bytes, path),
            ".csv" => ReadCsv(Encoding.UTF8.GetString(bytes), path),
            _ => ReadNpy(bytes, path),
        };
    }

    public static LoadMatrix ReadJson(byte[] utf8, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $" at line {line + 1}, column {e.BytePositionInLine + 1}" : "";
            throw CliException.BadData($"{source}: malformed JSON{where}");
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (!root.TryGetProperty("weights", out root))
                {
                    throw CliException.BadData($"{source}: a JSON object must have a \"weights\" member holding [layers][experts] numbers");
                }
            }

            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() == 0)
            {
                throw CliException.BadData($"{source}: expected a non-empty 2-D array of numbers, [layers][experts]");
            }

            var rows = new List<float[]>();
            int layer = 0;
            foreach (JsonElement row in root.EnumerateArray())
            {
                if (row.ValueKind != JsonValueKind.Array)
                {
                    throw CliException.BadData($"{source}: layer {layer} is not an array; expected [layers][experts] numbers");
                }

                var values = new float[row.GetArrayLength()];
                int expert = 0;
                foreach (JsonElement cell in row.EnumerateArray())
                {
                    if (cell.ValueKind != JsonValueKind.Number || !cell.TryGetDouble(out double v))
                    {
                        throw CliException.BadData($"{source}: layer {layer}, expert {expert} is not a number ({cell.GetRawText()})");
                    }

                    values[expert++] = (float)v;
                }

                rows.Add(values);
                layer++;
            }

            return FromRows(rows, source, "layer");
        }
    }

    public static LoadMatrix ReadCsv(string text, string source)
    {
        var rows = new List<float[]>();
        string[] lines = text.Split('\n');
        bool first = true;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string[] cells = line.Split(',');
            if (first && cells.All(c => !TryParse(c, out _)))
            {
                first = false;
                continue; // a header line
            }

            first = false;
            var values = new float[cells.Length];
            for (int j = 0; j < cells.Length; j++)
            {
                if (!TryParse(cells[j], out values[j]))
                {
                    throw CliException.BadData($"{source}: line {i + 1}, column {j + 1}: '{cells[j].Trim()}' is not a number");
                }
            }

            rows.Add(values);
        }

        if (rows.Count == 0)
        {
            throw CliException.BadData($"{source}: no rows of numbers; expected one layer per line");
        }

        return FromRows(rows, source, "line");
    }

    // NumPy's savetxt spells infinities "inf"; accept them so the load rules can name them.
    private static bool TryParse(string cell, out float value)
    {
        string text = cell.Trim();
        string unsigned = text.TrimStart('+', '-');
        if (unsigned.Equals("inf", StringComparison.OrdinalIgnoreCase))
        {
            value = text.StartsWith('-') ? float.NegativeInfinity : float.PositiveInfinity;
            return true;
        }

        return float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static LoadMatrix FromRows(List<float[]> rows, string source, string unit)
    {
        int experts = rows[0].Length;
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != experts)
            {
                throw CliException.BadData($"{source}: ragged rows: {unit} {i} has {rows[i].Length} values but the first has {experts}");
            }
        }

        if (experts == 0)
        {
            throw CliException.BadData($"{source}: rows are empty; expected at least one expert per layer");
        }

        var values = new float[rows.Count * experts];
        for (int i = 0; i < rows.Count; i++)
        {
            rows[i].CopyTo(values, i * experts);
        }

        return new LoadMatrix(values, rows.Count, experts);
    }

    /// <summary>NumPy's .npy format, versions 1-3: a magic string, a header dict, then the raw array.</summary>
    public static LoadMatrix ReadNpy(byte[] bytes, string source)
    {
        ReadOnlySpan<byte> magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
        if (bytes.Length == 0)
        {
            throw CliException.BadData($"{source}: the file is empty; expected a .npy array");
        }

        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(magic))
        {
            throw CliException.BadData($"{source}: not a .npy file (the NumPy magic string is missing)");
        }

        int major = bytes[6];
        int headerLengthSize = major == 1 ? 2 : 4;
        if (major is < 1 or > 3 || bytes.Length < 8 + headerLengthSize)
        {
            throw CliException.BadData($"{source}: unsupported .npy version {major}.{bytes[7]}");
        }

        int headerLength = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8))
            : (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)), int.MaxValue);
        int dataStart = 8 + headerLengthSize + headerLength;
        if (dataStart > bytes.Length)
        {
            throw CliException.BadData($"{source}: truncated .npy header");
        }

        string header = Encoding.Latin1.GetString(bytes, 8 + headerLengthSize, headerLength);
        string descr = HeaderValue(header, "descr", source).Trim('\'', '"', ' ');
        bool fortran = HeaderValue(header, "fortran_order", source).Trim() == "True";
        string shapeText = HeaderValue(header, "shape", source).Trim().TrimStart('(').TrimEnd(')');
        long[] shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long d) ? d : -1).ToArray();
        if (shape.Length != 2 || shape.Any(d => d < 0))
        {
            throw CliException.BadData($"{source}: expected a 2-D array [layers, experts], but the shape is ({shapeText})");
        }

        (int size, Func<ReadOnlySpan<byte>, float> read) = descr switch
        {
            "<f4" => (4, (Func<ReadOnlySpan<byte>, float>)(b => BinaryPrimitives.ReadSingleLittleEndian(b))),
            "<f8" => (8, b => (float)BinaryPrimitives.ReadDoubleLittleEndian(b)),
            "<i4" => (4, b => BinaryPrimitives.ReadInt32LittleEndian(b)),
            "<i8" => (8, b => BinaryPrimitives.ReadInt64LittleEndian(b)),
            _ => throw CliException.BadData($"{source}: unsupported dtype '{descr}'; use little-endian float32, float64, int32 or int64 (<f4, <f8, <i4, <i8)"),
        };

        long layers = shape[0], experts = shape[1], count = layers * experts;
        if (count == 0)
        {
            throw CliException.BadData($"{source}: the array is empty (shape ({layers}, {experts}))");
        }

        if (count > Array.MaxLength || dataStart + (count * size) > bytes.Length)
        {
            throw CliException.BadData($"{source}: truncated: shape ({layers}, {experts}) needs {count * size} bytes of data, the file holds {bytes.Length - dataStart}");
        }

        var values = new float[count];
        ReadOnlySpan<byte> data = bytes.AsSpan(dataStart);
        for (long i = 0; i < count; i++)
        {
            // Fortran order stores column by column; read it back row-major.
            long at = fortran ? ((i % experts) * layers) + (i / experts) : i;
            values[i] = read(data.Slice((int)(at * size), size));
        }

        return new LoadMatrix(values, (int)layers, (int)experts);
    }

    private static string HeaderValue(string header, string key, string source)
    {
        int at = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (at < 0)
        {
            throw CliException.BadData($"{source}: malformed .npy header (no '{key}')");
        }

        int colon = header.IndexOf(':', at);
        int end = key == "shape" ? header.IndexOf(')', colon) + 1 : header.IndexOf(',', colon);
        if (colon < 0 || end <= colon)
        {
            throw CliException.BadData($"{source}: malformed .npy header near '{key}'");
        }

        return header[(colon + 1)..end].TrimEnd(',');
    }
}
