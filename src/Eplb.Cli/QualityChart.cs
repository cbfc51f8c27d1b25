using System.Globalization;
using System.Text;

namespace Eplb.Cli;

/// <summary>
/// The quality benchmark as an SVG: above, the mean excess over the bound per configuration, reference beside refined;
/// below, balancedness against the share of slots copied per step for each migration strategy and drift.
/// </summary>
internal static class QualityChart
{
    private const int Width = 960, Left = 70, Right = 40, PlotWidth = Width - Left - Right;
    private const int BarTop = 90, BarHeight = 230, ScatterTop = BarTop + BarHeight + 130, ScatterHeight = 260, Height = ScatterTop + ScatterHeight + 50;
    private const string Reference = "#8a8a8a", Refined = "#1f6fb5";
    private static readonly string[] s_driftColors = ["#2a9d4b", "#e07b00", "#c0392b"];

    public static string Render(List<QualityRow> rows, QualityConfig migrated, List<MigrationRow> migration)
    {
        var sb = new StringBuilder();
        sb.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"Helvetica, Arial, sans-serif\">\n"));
        sb.Append(Inv($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>\n"));
        Text(sb, Left, 28, 16, "#000", "eplb quality: reference and refined plans, and migration strategies", bold: true);
        Text(sb, Left, 48, 12, "#444", "Mean excess of the busiest GPU over the bound (LB_hier for hierarchical plans, LB for global ones), per layer,");
        Text(sb, Left, 63, 12, "#444", "on the calibrated loads (docs/quality.md has the group-correlated and Zipf ones). Lower is better; 0 is optimal.");
        Swatch(sb, Left, 76, Reference, "reference (eplb.py)");
        Swatch(sb, Left + 170, 76, Refined, "refined");
        Bars(sb, rows);
        Scatter(sb, migrated, migration);
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void Bars(StringBuilder sb, List<QualityRow> rows)
    {
        var configs = rows.Where(r => r.Loads == "calibrated").Select(r => (r.Config, Reference: r.Reference.MeanExcess, Refined: r.Refined.MeanExcess)).ToList();
        double top = Math.Max(0.001, configs.Max(c => Math.Max(c.Reference, c.Refined))) * 1.15;
        double step = NiceStep(top);
        double Y(double v) => BarTop + (BarHeight * (1 - (v / top)));
        for (double v = 0; v <= top; v += step)
        {
            sb.Append(Inv($"<line x1=\"{Left}\" y1=\"{Y(v):0.#}\" x2=\"{Width - Right}\" y2=\"{Y(v):0.#}\" stroke=\"#e3e3e3\"/>\n"));
            Text(sb, Left - 8, Y(v) + 4, 11, "#555", Inv($"{100 * v:0.#}%"), anchor: "end");
        }

        double slot = PlotWidth / (double)configs.Count, bar = Math.Min(40, slot / 3);
        for (int i = 0; i < configs.Count; i++)
        {
            double center = Left + (slot * (i + 0.5));
            Bar(sb, center - bar - 2, bar, Y(configs[i].Reference), Y(0), Reference, configs[i].Reference);
            Bar(sb, center + 2, bar, Y(configs[i].Refined), Y(0), Refined, configs[i].Refined);
            Text(sb, center, Y(0) + 18, 11, "#222", configs[i].Config.Model, anchor: "middle");
            Text(sb, center, Y(0) + 32, 11, "#222", configs[i].Config.Cluster, anchor: "middle");
            Text(sb, center, Y(0) + 46, 10, "#666", Inv($"{configs[i].Config.SlotsPerGpu} slots/GPU"), anchor: "middle");
        }
    }

    private static void Bar(StringBuilder sb, double x, double width, double y, double bottom, string color, double value)
    {
        sb.Append(Inv($"<rect x=\"{x:0.#}\" y=\"{y:0.#}\" width=\"{width:0.#}\" height=\"{Math.Max(0.5, bottom - y):0.#}\" fill=\"{color}\"/>\n"));
        Text(sb, x + (width / 2), y - 4, 10, "#333", Inv($"{100 * value:0.00}"), anchor: "middle");
    }

    private static void Scatter(StringBuilder sb, QualityConfig migrated, List<MigrationRow> migration)
    {
        Text(sb, Left, ScatterTop - 50, 14, "#000", Inv($"Migration at {migrated.Cluster}: balancedness against expert weights copied per step"), bold: true);
        Text(sb, Left, ScatterTop - 32, 12, "#444", "F: fresh reference plans, R: relabelled, 16/32/64: budgeted with K copies per layer; one line per drift of the series.");
        double low = Math.Floor(migration.Min(m => m.Balancedness) * 50) / 50, high = Math.Ceiling(migration.Max(m => m.Balancedness) * 50) / 50;
        high = Math.Max(high, low + 0.02);
        double X(double share) => Left + (PlotWidth * share);
        double Y(double b) => ScatterTop + (ScatterHeight * (1 - ((b - low) / (high - low))));
        double grid = high - low > 0.1 ? 0.02 : 0.01;
        for (double b = low; b <= high + 1e-9; b += grid)
        {
            sb.Append(Inv($"<line x1=\"{Left}\" y1=\"{Y(b):0.#}\" x2=\"{Width - Right}\" y2=\"{Y(b):0.#}\" stroke=\"#e3e3e3\"/>\n"));
            Text(sb, Left - 8, Y(b) + 4, 11, "#555", Inv($"{b:0.00}"), anchor: "end");
        }

        for (int p = 0; p <= 100; p += 10)
        {
            Text(sb, X(p / 100.0), ScatterTop + ScatterHeight + 18, 11, "#555", Inv($"{p}%"), anchor: "middle");
        }

        Text(sb, Left + (PlotWidth / 2), ScatterTop + ScatterHeight + 38, 12, "#222", "share of slots copied per step", anchor: "middle");
        int d = 0;
        foreach (IGrouping<double, MigrationRow> drift in migration.GroupBy(m => m.Drift))
        {
            string color = s_driftColors[d % s_driftColors.Length];
            var points = drift.OrderBy(m => m.CopiedShare).Select(m => (X(m.CopiedShare), Y(m.Balancedness))).ToList();
            sb.Append(Inv($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{string.Join(" ", points.Select(p => Inv($"{p.Item1:0.#},{p.Item2:0.#}")))}\"/>\n"));
            int k = 0;
            foreach (MigrationRow m in drift)
            {
                // Budgeted points sit close together: their labels take turns above and below.
                double x = X(m.CopiedShare), y = Y(m.Balancedness);
                sb.Append(Inv($"<circle cx=\"{x:0.#}\" cy=\"{y:0.#}\" r=\"4\" fill=\"{color}\"/>\n"));
                Text(sb, x + 6, (k++ % 2 == 0) ? y - 7 : y + 15, 10, color, Label(m.Strategy));
            }

            Swatch(sb, Left + 420 + (d * 150), ScatterTop - 20, color, Inv($"drift {drift.Key:0.##}"));
            d++;
        }
    }

    private static string Label(string strategy) => strategy.StartsWith("fresh", StringComparison.Ordinal) ? "F"
        : strategy.StartsWith("relabelled", StringComparison.Ordinal) ? "R"
        : strategy[(strategy.LastIndexOf(' ') + 1)..];

    private static double NiceStep(double top)
    {
        double raw = top / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        return raw / magnitude < 2 ? 2 * magnitude : raw / magnitude < 5 ? 5 * magnitude : 10 * magnitude;
    }

    private static void Swatch(StringBuilder sb, double x, double y, string color, string label)
    {
        sb.Append(Inv($"<rect x=\"{x:0.#}\" y=\"{y - 9:0.#}\" width=\"12\" height=\"12\" fill=\"{color}\"/>\n"));
        Text(sb, x + 18, y + 2, 12, "#222", label);
    }

    private static void Text(StringBuilder sb, double x, double y, int size, string color, string text, bool bold = false, string anchor = "start") =>
        SvgText.Append(sb, x, y, size, color, text, bold, anchor);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
