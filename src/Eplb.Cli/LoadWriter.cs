using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Eplb.Cli;

/// <summary>
/// Writes generated loads in the formats <see cref="LoadReader"/> reads. A series of windows becomes a 3-D
/// array (<c>[steps][layers][experts]</c> in JSON and .npy) or CSV rows led by their step and layer.
/// </summary>
internal static class LoadWriter
{
    public static byte[] Render(string path, IReadOnlyList<float[,]> windows)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".json" => Encoding.UTF8.GetBytes(Json(windows)),
            ".csv" => Encoding.UTF8.GetBytes(Csv(windows)),
            ".npy" => Npy(windows),
            _ => throw CliException.Usage($"{path}: unsupported output type '{extension}'; use .json, .csv or .npy"),
        };
    }

    private static string Json(IReadOnlyList<float[,]> windows)
    {
        var sb = new StringBuilder();
        bool series = windows.Count > 1;
        sb.Append(series ? "{\"steps\": [\n" : "{\"weights\": ");
        for (int s = 0; s < windows.Count; s++)
        {
            float[,] w = windows[s];
            sb.Append('[');
            for (int l = 0; l < w.GetLength(0); l++)
            {
                sb.Append(l == 0 ? "\n  [" : ",\n  [");
                for (int e = 0; e < w.GetLength(1); e++)
                {
                    sb.Append(e == 0 ? "" : ", ").Append(w[l, e].ToString("R", CultureInfo.InvariantCulture));
                }

                sb.Append(']');
            }

            sb.Append("\n]").Append(s < windows.Count - 1 ? ",\n" : "");
        }

        sb.Append(series ? "\n]}\n" : "}\n");
        return sb.ToString();
    }

    private static string Csv(IReadOnlyList<float[,]> windows)
    {
        var sb = new StringBuilder();
        bool series = windows.Count > 1;
        int experts = windows[0].GetLength(1);
        sb.Append(series ? "step,layer," : "");
        sb.AppendJoin(',', Enumerable.Range(0, experts).Select(e => $"expert_{e}")).Append('\n');
        for (int s = 0; s < windows.Count; s++)
        {
            float[,] w = windows[s];
            for (int l = 0; l < w.GetLength(0); l++)
            {
                if (series)
                {
                    sb.Append(s).Append(',').Append(l).Append(',');
                }

                for (int e = 0; e < experts; e++)
                {
                    sb.Append(e == 0 ? "" : ",").Append(w[l, e].ToString("R", CultureInfo.InvariantCulture));
                }

                sb.Append('\n');
            }
        }

        return sb.ToString();
    }

    /// <summary>A version 1.0 .npy of little-endian float32, as <c>np.save</c> writes it.</summary>
    public static byte[] Npy(IReadOnlyList<float[,]> windows)
    {
        int layers = windows[0].GetLength(0), experts = windows[0].GetLength(1);
        string shape = windows.Count > 1 ? $"({windows.Count}, {layers}, {experts})" : $"({layers}, {experts})";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        int unpadded = 10 + dict.Length + 1;
        string header = dict + new string(' ', ((unpadded + 63) / 64 * 64) - unpadded) + "\n";
        var bytes = new byte[10 + header.Length + (windows.Count * layers * experts * 4)];
        ReadOnlySpan<byte> magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0];
        magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        int at = 10 + header.Length;
        foreach (float[,] w in windows)
        {
            foreach (float v in w)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at), v);
                at += 4;
            }
        }

        return bytes;
    }
}
