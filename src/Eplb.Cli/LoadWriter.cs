using System.Globalization;
using System.Text;

namespace Eplb.Cli;

/// <summary>
/// Writes generated loads in the formats <see cref="LoadReader"/> reads. A series of windows becomes a 3-D
/// array (<c>[steps][layers][experts]</c> in JSON and .npy) or CSV rows led by their step and layer.
/// </summary>
internal static class LoadWriter
{
    /// <summary>The windows in the format of <paramref name="extension"/>: .json, .csv or .npy.</summary>
    public static byte[] Render(string extension, IReadOnlyList<float[,]> windows) => extension switch
    {
        ".csv" => Encoding.UTF8.GetBytes(Csv(windows)),
        ".npy" => Npy(windows),
        _ => Encoding.UTF8.GetBytes(Json(windows)),
    };

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

    /// <summary>A .npy of little-endian float32: <c>[layers, experts]</c>, or <c>[steps, layers, experts]</c> for a series.</summary>
    public static byte[] Npy(IReadOnlyList<float[,]> windows)
    {
        long layers = windows[0].GetLength(0), experts = windows[0].GetLength(1);
        long[] shape = windows.Count > 1 ? [windows.Count, layers, experts] : [layers, experts];
        return NpyFile.Float32(shape, windows.SelectMany(w => w.Cast<float>()));
    }
}
