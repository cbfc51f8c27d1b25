using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Eplb.Cli;

/// <summary>
/// Reads loads from .json, .csv or .npy, or JSON from standard input ("-"): one <c>[layers, experts]</c> window or a
/// series of them.
/// </summary>
/// <remarks>
/// One rule for numbers in every text format, NumPy's: the decimal text is read as a double, then rounded to float32,
/// so the same numbers give the same plan through .csv, .json and .npy. A UTF-8 byte-order mark is skipped. Python's
/// <c>json.dump</c> writes <c>NaN</c> and <c>Infinity</c> for such floats; they are read as numbers, and then refused
/// by the load rule with their position.
/// </remarks>
internal static class LoadReader
{
    /// <summary>The bytes of an input file; a file that cannot be read is bad data, named by <paramref name="name"/>.</summary>
    internal static byte[] ReadFile(string path, string name)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.BadData($"{name}: cannot read the file: {e.Message}");
        }
    }

    private static readonly byte[] s_byteOrderMark = [0xEF, 0xBB, 0xBF];

    public static LoadData Read(string path, TextReader stdin)
    {
        if (path == "-")
        {
            return ReadJson(Encoding.UTF8.GetBytes(stdin.ReadToEnd()), "<stdin>");
        }

        if (Directory.Exists(path))
        {
            throw CliException.Usage($"{path}: is a directory; name a .json, .csv or .npy file");
        }

        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".json" or ".csv" or ".npy"))
        {
            string what = extension.Length == 0 ? "has no extension" : $"has the unsupported extension '{extension}'";
            throw CliException.Usage($"{path}: {what}; use .json, .csv or .npy (or - for JSON on standard input)");
        }

        byte[] bytes = ReadFile(path, path);

        return extension switch
        {
            ".json" => ReadJson(bytes, path),
            ".csv" => ReadCsv(Encoding.UTF8.GetString(WithoutByteOrderMark(bytes)), path),
            _ => ReadNpy(bytes, path),
        };
    }

    /// <summary>A 2-D array, <c>{"weights": 2-D}</c>, a 3-D array or <c>{"steps": 3-D}</c> (a series).</summary>
    public static LoadData ReadJson(byte[] utf8, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(NamedFloatsQuoted(WithoutByteOrderMark(utf8)), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $" at line {line + 1}, column {e.BytePositionInLine + 1}" : "";
            throw CliException.BadData($"{source}: malformed JSON{where}");
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            bool series = false;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("steps", out JsonElement steps))
                {
                    (root, series) = (steps, true);
                }
                else if (!root.TryGetProperty("weights", out root))
                {
                    throw CliException.BadData($"{source}: a JSON object must have a \"weights\" member holding [layers][experts] numbers (or \"steps\" holding a series)");
                }
            }

            if (root.ValueKind != JsonValueKind.Array || root.GetArrayLength() == 0)
            {
                throw CliException.BadData($"{source}: expected a non-empty 2-D array of numbers, [layers][experts]");
            }

            series |= root[0].ValueKind == JsonValueKind.Array && root[0].GetArrayLength() > 0 && root[0][0].ValueKind == JsonValueKind.Array;
            if (!series)
            {
                return new LoadData(source, [JsonMatrix(root, source, "")], false);
            }

            var windows = new List<LoadMatrix>();
            foreach (JsonElement step in root.EnumerateArray())
            {
                if (step.ValueKind != JsonValueKind.Array || step.GetArrayLength() == 0)
                {
                    throw CliException.BadData($"{source}: step {windows.Count} is not a 2-D array of numbers, [layers][experts]");
                }

                windows.Add(JsonMatrix(step, source, $"step {windows.Count}, "));
            }

            ThrowIfStepsDiffer(windows, source);
            return new LoadData(source, windows, true);
        }
    }

    private static LoadMatrix JsonMatrix(JsonElement rows, string source, string where)
    {
        var values = new List<float[]>();
        foreach (JsonElement row in rows.EnumerateArray())
        {
            int layer = values.Count;
            if (row.ValueKind != JsonValueKind.Array)
            {
                throw CliException.BadData($"{source}: {where}layer {layer} is not an array; expected [layers][experts] numbers");
            }

            var cells = new float[row.GetArrayLength()];
            int expert = 0;
            foreach (JsonElement cell in row.EnumerateArray())
            {
                cells[expert] = cell.ValueKind switch
                {
                    JsonValueKind.Number when cell.TryGetDouble(out double v) => (float)v,
                    JsonValueKind.String when NamedFloat(cell.GetString()) is float named => named,
                    _ => throw CliException.BadData($"{source}: {where}layer {layer}, expert {expert} is not a number ({cell.GetRawText()})"),
                };
                expert++;
            }

            values.Add(cells);
        }

        return FromRows(values, [.. Enumerable.Range(0, values.Count)], source, $"{where}layer");
    }

    /// <summary>
    /// One layer per line, or — under a <c>step,layer,…</c> header, as <c>eplb generate --steps</c> writes — a series,
    /// each line led by its step and layer. A first line with no number is a header.
    /// </summary>
    public static LoadData ReadCsv(string text, string source)
    {
        string[] lines = text.Split('\n');
        var rows = new List<(int Line, string[] Cells)>();
        string[]? header = null;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string[] cells = line.Split(',');
            if (header is null && rows.Count == 0 && cells.All(c => !TryParse(c, out _)))
            {
                header = cells;
                continue;
            }

            rows.Add((i + 1, cells));
        }

        if (rows.Count == 0)
        {
            throw CliException.BadData($"{source}: no rows of numbers; expected one layer per line");
        }

        bool series = header is [var first, var second, ..] && first.Trim() == "step" && second.Trim() == "layer";
        if (!series)
        {
            return new LoadData(source, [FromRows([.. rows.Select(r => Numbers(r.Cells, 0, r.Line, source))], [.. rows.Select(r => r.Line)], source, "line")], false);
        }

        var windows = new List<LoadMatrix>();
        foreach (var step in rows.GroupBy(r => Index(r.Cells[0], r.Line, "step", source)).OrderBy(g => g.Key))
        {
            if (step.Key != windows.Count)
            {
                throw CliException.BadData($"{source}: line {step.First().Line}: step {step.Key} follows step {windows.Count - 1}; steps must run 0, 1, 2, …");
            }

            var layers = step.ToList();
            for (int l = 0; l < layers.Count; l++)
            {
                if (Index(layers[l].Cells[1], layers[l].Line, "layer", source) != l)
                {
                    throw CliException.BadData($"{source}: line {layers[l].Line}: expected layer {l} of step {step.Key}");
                }
            }

            windows.Add(FromRows([.. layers.Select(r => Numbers(r.Cells, 2, r.Line, source))], [.. layers.Select(r => r.Line)], source, "line"));
        }

        ThrowIfStepsDiffer(windows, source);
        return new LoadData(source, windows, true);
    }

    private static int Index(string cell, int line, string what, string source) =>
        int.TryParse(cell.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw CliException.BadData($"{source}: line {line}: the {what} column holds '{cell.Trim()}', not a {what} number");

    private static float[] Numbers(string[] cells, int skip, int line, string source)
    {
        var values = new float[cells.Length - skip];
        for (int j = skip; j < cells.Length; j++)
        {
            if (!TryParse(cells[j], out values[j - skip]))
            {
                throw CliException.BadData($"{source}: line {line}, column {j + 1}: '{cells[j].Trim()}' is not a number");
            }
        }

        return values;
    }

    // Decimal -> double -> float32, as NumPy reads text; "inf" and "nan" as NumPy's savetxt spells them, so that
    // the load rule can name them.
    private static bool TryParse(string cell, out float value)
    {
        string text = cell.Trim();
        if (NamedFloat(text) is float named)
        {
            value = named;
            return true;
        }

        bool ok = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number);
        value = (float)number;
        return ok;
    }

    private static float? NamedFloat(string? text) => text?.TrimStart('+') switch
    {
        "NaN" or "nan" => float.NaN,
        "Infinity" or "inf" or "Inf" => float.PositiveInfinity,
        "-Infinity" or "-inf" or "-Inf" => float.NegativeInfinity,
        _ => null,
    };

    private static LoadMatrix FromRows(List<float[]> rows, int[] lineOf, string source, string unit)
    {
        int experts = rows[0].Length;
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != experts)
            {
                throw CliException.BadData($"{source}: ragged rows: {unit} {lineOf[i]} has {rows[i].Length} values but {unit} {lineOf[0]} has {experts}");
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

    private static void ThrowIfStepsDiffer(List<LoadMatrix> windows, string source)
    {
        for (int s = 1; s < windows.Count; s++)
        {
            if (windows[s].Layers != windows[0].Layers || windows[s].Experts != windows[0].Experts)
            {
                throw CliException.BadData($"{source}: step {s} is {windows[s].Layers} layers x {windows[s].Experts} experts, step 0 {windows[0].Layers} x {windows[0].Experts}");
            }
        }
    }

    private static ReadOnlySpan<byte> WithoutByteOrderMark(byte[] bytes) =>
        bytes.AsSpan().StartsWith(s_byteOrderMark) ? bytes.AsSpan(s_byteOrderMark.Length) : bytes;

    /// <summary>
    /// JSON has no NaN or Infinity, but Python's json.dump writes them bare; outside strings they become the strings
    /// "NaN", "Infinity" and "-Infinity", which <see cref="JsonMatrix"/> reads as those floats.
    /// </summary>
    private static byte[] NamedFloatsQuoted(ReadOnlySpan<byte> json)
    {
        if (json.IndexOf("NaN"u8) < 0 && json.IndexOf("Infinity"u8) < 0)
        {
            return json.ToArray();
        }

        var result = new List<byte>(json.Length + 16);
        bool inString = false;
        for (int i = 0; i < json.Length; i++)
        {
            byte b = json[i];
            if (inString)
            {
                result.Add(b);
                if (b == (byte)'\\' && i + 1 < json.Length)
                {
                    result.Add(json[++i]);
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }

                continue;
            }

            ReadOnlySpan<byte> rest = json.Slice(i);
            int length = rest.StartsWith("NaN"u8) ? 3 : rest.StartsWith("Infinity"u8) ? 8 : rest.StartsWith("-Infinity"u8) ? 9 : 0;
            if (length > 0)
            {
                result.Add((byte)'"');
                result.AddRange(rest.Slice(0, length));
                result.Add((byte)'"');
                i += length - 1;
                continue;
            }

            inString = b == (byte)'"';
            result.Add(b);
        }

        return [.. result];
    }

    /// <summary>NumPy's .npy format, versions 1-3: a 2-D array, or a 3-D one for a series.</summary>
    public static LoadData ReadNpy(byte[] bytes, string source)
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
        if (shape.Length is not (2 or 3) || shape.Any(d => d < 0))
        {
            throw CliException.BadData($"{source}: expected a 2-D array [layers, experts] (or 3-D [steps, layers, experts]), but the shape is ({shapeText})");
        }

        (int size, Func<ReadOnlySpan<byte>, float> read) = descr switch
        {
            "<f4" => (4, (Func<ReadOnlySpan<byte>, float>)(b => BinaryPrimitives.ReadSingleLittleEndian(b))),
            "<f8" => (8, b => (float)BinaryPrimitives.ReadDoubleLittleEndian(b)),
            "<i4" => (4, b => BinaryPrimitives.ReadInt32LittleEndian(b)),
            "<i8" => (8, b => BinaryPrimitives.ReadInt64LittleEndian(b)),
            _ => throw CliException.BadData($"{source}: unsupported dtype '{descr}'; use little-endian float32, float64, int32 or int64 (<f4, <f8, <i4, <i8)"),
        };

        long steps = shape.Length == 3 ? shape[0] : 1, layers = shape[^2], experts = shape[^1], count = steps * layers * experts;
        if (count == 0)
        {
            throw CliException.BadData($"{source}: the array is empty (shape ({shapeText}))");
        }

        if (count > Array.MaxLength || dataStart + (count * size) > bytes.Length)
        {
            throw CliException.BadData($"{source}: truncated: shape ({shapeText}) needs {count * size} bytes of data, the file holds {bytes.Length - dataStart}");
        }

        ReadOnlySpan<byte> data = bytes.AsSpan(dataStart);
        var windows = new List<LoadMatrix>();
        for (long s = 0; s < steps; s++)
        {
            var values = new float[layers * experts];
            for (long i = 0; i < values.Length; i++)
            {
                // Fortran order stores the first index fastest; read it back in C order.
                long l = i / experts, e = i % experts;
                long at = fortran ? s + (steps * (l + (layers * e))) : (s * layers * experts) + i;
                values[i] = read(data.Slice((int)(at * size), size));
            }

            windows.Add(new LoadMatrix(values, (int)layers, (int)experts));
        }

        return new LoadData(source, windows, shape.Length == 3);
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
