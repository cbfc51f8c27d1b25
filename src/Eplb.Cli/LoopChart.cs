using System.Globalization;
using System.Security;
using System.Text;

namespace Eplb.Cli;

/// <summary>
/// The simulated loop as an SVG: balancedness on the next window over time (this loop, never rebalancing, a fresh plan
/// every step), dots where the loop migrated, and below, the expert copies each step took.
/// </summary>
internal static class LoopChart
{
    private const int Width = 960, Left = 70, Right = 50, PlotWidth = Width - Left - Right;
    private const int LineTop = 96, LineHeight = 250, BarTop = LineTop + LineHeight + 60, BarHeight = 130, Height = BarTop + BarHeight + 60;
    private const string Loop = "#1f6fb5", Never = "#8a8a8a", Always = "#e07b00";

    public static string Render(IReadOnlyList<LoopStep> steps, ClusterConfig c, double threshold)
    {
        var sb = new StringBuilder();
        sb.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"Helvetica, Arial, sans-serif\">\n"));
        sb.Append(Inv($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>\n"));
        Text(sb, Left, 28, 16, "#000", Inv($"eplb simulate: ({c.Replicas}, {c.Groups}, {c.Nodes}, {c.Gpus}), rebalance when the gain reaches {threshold:0.000}"), bold: true);
        Text(sb, Left, 48, 12, "#444", "Balancedness of the plan in force on the next window (sum of mean GPU loads / sum of maxima; 1.0 is perfect);");
        Text(sb, Left, 63, 12, "#444", "dots mark the steps where the loop migrated. Below: expert weights copied per step.");
        Legend(sb, Left, 80);

        double low = Math.Floor(Math.Min(steps.Min(s => Math.Min(s.Balancedness, Math.Min(s.NeverBalancedness, s.AlwaysBalancedness))), 0.99) * 20) / 20;
        double X(int i) => Left + (steps.Count == 1 ? PlotWidth / 2.0 : PlotWidth * i / (double)(steps.Count - 1));
        double Y(double b) => LineTop + (LineHeight * (1 - ((b - low) / (1 - low))));

        // Balancedness axis, gridlines every 0.05.
        for (double b = low; b <= 1.0001; b += 0.05)
        {
            sb.Append(Inv($"<line x1=\"{Left}\" y1=\"{Y(b):0.#}\" x2=\"{Width - Right}\" y2=\"{Y(b):0.#}\" stroke=\"#e3e3e3\"/>\n"));
            Text(sb, Left - 8, Y(b) + 4, 11, "#555", Inv($"{b:0.00}"), anchor: "end");
        }

        Polyline(sb, steps.Select((s, i) => (X(i), Y(s.NeverBalancedness))), Never, 2, dashed: true);
        Polyline(sb, steps.Select((s, i) => (X(i), Y(s.AlwaysBalancedness))), Always, 1.5, dashed: false);
        Polyline(sb, steps.Select((s, i) => (X(i), Y(s.Balancedness))), Loop, 3, dashed: false);
        for (int i = 0; i < steps.Count; i++)
        {
            if (steps[i].Rebalanced)
            {
                sb.Append(Inv($"<circle class=\"migration\" cx=\"{X(i):0.#}\" cy=\"{Y(steps[i].Balancedness):0.#}\" r=\"5\" fill=\"{Loop}\" stroke=\"#fff\" stroke-width=\"1.5\"><title>step {steps[i].Step}: rebalanced, {steps[i].Copies} copies</title></circle>\n"));
            }
        }

        // Copies per step: the loop's, and a fresh plan's every step beside them.
        int most = Math.Max(1, steps.Max(s => Math.Max(s.Copies, s.AlwaysCopies)));
        double barWidth = Math.Max(1, Math.Min(14, (PlotWidth / (double)steps.Count / 2) - 2));
        Text(sb, Left - 8, BarTop + 4, 11, "#555", Compact(most), anchor: "end");
        Text(sb, Left - 8, BarTop + BarHeight + 4, 11, "#555", "0", anchor: "end");
        sb.Append(Inv($"<line x1=\"{Left}\" y1=\"{BarTop + BarHeight}\" x2=\"{Width - Right}\" y2=\"{BarTop + BarHeight}\" stroke=\"#999\"/>\n"));
        Text(sb, Left, BarTop - 12, 12, "#444", "expert copies per step");
        for (int i = 0; i < steps.Count; i++)
        {
            Bar(sb, X(i) - barWidth - 1, barWidth, steps[i].Copies, most, Loop, Inv($"step {steps[i].Step}: this loop copied {steps[i].Copies}"));
            Bar(sb, X(i) + 1, barWidth, steps[i].AlwaysCopies, most, Always, Inv($"step {steps[i].Step}: a fresh plan would copy {steps[i].AlwaysCopies}"));
        }

        // Step axis, labelled at about ten places.
        int every = Math.Max(1, (int)Math.Ceiling(steps.Count / 10.0));
        for (int i = 0; i < steps.Count; i += every)
        {
            Text(sb, X(i), BarTop + BarHeight + 18, 11, "#555", Inv($"{steps[i].Step}"), anchor: "middle");
        }

        Text(sb, Left + (PlotWidth / 2), BarTop + BarHeight + 40, 12, "#444", "step (window recorded)", anchor: "middle");
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void Legend(StringBuilder sb, int x, int y)
    {
        (string Color, string Label, bool Dashed)[] entries = [(Loop, "this loop (track, decide, relabel)", false), (Never, "never rebalance", true), (Always, "a fresh plan every step, not relabelled", false)];
        foreach ((string color, string label, bool dashed) in entries)
        {
            sb.Append(Inv($"<line x1=\"{x}\" y1=\"{y}\" x2=\"{x + 24}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"3\"{(dashed ? " stroke-dasharray=\"6 4\"" : "")}/>\n"));
            Text(sb, x + 30, y + 4, 12, "#222", label);
            x += 44 + (int)(label.Length * 6.6);
        }
    }

    private static void Polyline(StringBuilder sb, IEnumerable<(double X, double Y)> points, string color, double width, bool dashed) =>
        sb.Append(Inv($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\"{(dashed ? " stroke-dasharray=\"6 4\"" : "")} points=\"{string.Join(" ", points.Select(p => Inv($"{p.X:0.#},{p.Y:0.#}")))}\"/>\n"));

    private static void Bar(StringBuilder sb, double x, double width, int value, int most, string color, string title)
    {
        double height = BarHeight * value / (double)most;
        sb.Append(Inv($"<rect x=\"{x:0.#}\" y=\"{BarTop + BarHeight - height:0.#}\" width=\"{width:0.#}\" height=\"{height:0.#}\" fill=\"{color}\"><title>{SecurityElement.Escape(title)}</title></rect>\n"));
    }

    private static void Text(StringBuilder sb, double x, double y, int size, string color, string text, bool bold = false, string anchor = "start") =>
        SvgText.Append(sb, x, y, size, color, text, bold, anchor);

    private static string Compact(int value) => value >= 10_000 ? Inv($"{value / 1000.0:0.#}k") : Inv($"{value}");

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
