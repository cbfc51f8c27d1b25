using System.Globalization;
using System.Security;
using System.Text;

namespace Eplb.Cli;

/// <summary>
/// The placement drawn like the reference README's figure: a box per node, GPU boxes inside, one row of slots per
/// drawn layer. Each slot shows its expert and is shaded by the load its replica carries (a legend gives the scale);
/// a replicated expert's slots carry a corner mark and its replica count; each GPU row ends with the GPU's load in
/// that layer, and the header gives each drawn layer's balancedness. Nodes wrap into rows, so 40 nodes of 8 GPUs
/// stay readable.
/// </summary>
internal static class SvgReport
{
    private const int CellWidth = 30, CellHeight = 22, TotalWidth = 44, GpuPadding = 6, GpuHeader = 18, Gap = 10;
    private const int NodePadding = 12, NodeHeader = 22, LabelWidth = 28, MaxGpusPerRow = 8, Margin = 16, MaxWidth = 1700;
    private const int LegendWidth = 200;

    public static string Render(PlanAnalysis a, IReadOnlyList<int> layers)
    {
        ClusterConfig c = a.Config;
        int slotsPerGpu = c.SlotsPerGpu, gpusPerNode = c.GpusPerNode;

        // A GPU box holds its slots, the load column, and its label ("GPU 319" at 11 points: about 45 pixels). A node
        // puts as many GPUs in a row as fit the page width (at most eight), and wraps the rest.
        int gpuWidth = Math.Max((slotsPerGpu * CellWidth) + TotalWidth, TextWidth($"GPU {c.Gpus - 1}", 11) + 4) + (2 * GpuPadding);
        int fitting = (MaxWidth - (2 * Margin) - (2 * NodePadding) - LabelWidth + Gap) / (gpuWidth + Gap);
        int gpusPerRow = Math.Clamp(fitting, 1, Math.Min(gpusPerNode, MaxGpusPerRow));
        int gpuRows = (gpusPerNode + gpusPerRow - 1) / gpusPerRow;
        int gpuHeight = GpuHeader + (layers.Count * CellHeight) + GpuPadding;
        int nodeWidth = LabelWidth + (gpusPerRow * (gpuWidth + Gap)) - Gap + (2 * NodePadding);
        int nodeHeight = NodeHeader + (gpuRows * (gpuHeight + Gap)) - Gap + NodePadding;
        int nodesPerRow = Math.Clamp((MaxWidth - (2 * Margin) + Gap) / (nodeWidth + Gap), 1, c.Nodes);
        int nodeRows = (c.Nodes + nodesPerRow - 1) / nodesPerRow;

        string title = Inv($"EPLB placement: {c.Replicas} replicas of {a.Loads.Experts} experts on {c.Gpus} GPUs in {c.Nodes} node{(c.Nodes == 1 ? "" : "s")} ({TableReport.Policy(a.Plan.Policy)} policy, {ClusterOptions.Name(c.TieOrder)} ties)");
        string[] caption =
        [
            "Each cell is a physical slot, labelled with its logical expert and shaded by the load its replica carries;",
            "a corner mark and a count (x3) show an expert with several replicas; each row ends with the GPU's load in that layer.",
            .. c.UnavailableGpus is { Length: > 0 } down ? [Inv($"Grey hatched slots are on GPUs out of service ({string.Join(", ", down)}): they hold no replica.")] : Array.Empty<string>(),
        ];
        string[] layerLines = [.. layers.Select(l => Inv($"layer {l}: balancedness {a.Layers[l].After:0.000} (mean GPU load / max), busiest GPU {a.Layers[l].BusiestGpu} with {a.Layers[l].BusiestGpuLoad:0.#}"))];
        int headerHeight = 72 + (16 * layerLines.Length) + 36;

        int contentWidth = (nodesPerRow * (nodeWidth + Gap)) - Gap;
        int width = Math.Max(contentWidth, Math.Max(TextWidth(title, 16), Math.Max(caption.Max(line => TextWidth(line, 12)), LegendWidth + 120))) + (2 * Margin);
        int height = headerHeight + (nodeRows * (nodeHeight + Gap)) - Gap + (2 * Margin);

        double maxLoad = 0;
        foreach (int l in layers)
        {
            for (int p = 0; p < c.Replicas; p++)
            {
                maxLoad = Math.Max(maxLoad, a.ReplicaLoad(l, p));
            }
        }

        var sb = new StringBuilder();
        sb.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\">\n"));
        sb.Append(Inv($"<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n"));
        sb.Append(Inv($"<text x=\"{Margin}\" y=\"{Margin + 16}\" font-size=\"16\" font-weight=\"bold\">{SecurityElement.Escape(title)}</text>\n"));
        for (int i = 0; i < caption.Length; i++)
        {
            sb.Append(Inv($"<text x=\"{Margin}\" y=\"{Margin + 34 + (15 * i)}\" font-size=\"12\" fill=\"#444\">{SecurityElement.Escape(caption[i])}</text>\n"));
        }

        for (int i = 0; i < layerLines.Length; i++)
        {
            sb.Append(Inv($"<text class=\"layer-summary\" x=\"{Margin}\" y=\"{Margin + 70 + (16 * i)}\" font-size=\"12\" fill=\"#222\">{SecurityElement.Escape(layerLines[i])}</text>\n"));
        }

        AppendLegend(sb, Margin, Margin + 70 + (16 * layerLines.Length), maxLoad);

        for (int node = 0; node < c.Nodes; node++)
        {
            int nx = Margin + (node % nodesPerRow * (nodeWidth + Gap));
            int ny = Margin + headerHeight + (node / nodesPerRow * (nodeHeight + Gap));
            sb.Append(Inv($"<g class=\"node\" data-node=\"{node}\">\n"));
            sb.Append(Inv($"<rect x=\"{nx}\" y=\"{ny}\" width=\"{nodeWidth}\" height=\"{nodeHeight}\" rx=\"8\" fill=\"#fff7e6\" stroke=\"#d9822b\" stroke-width=\"2\"/>\n"));
            sb.Append(Inv($"<text x=\"{nx + NodePadding}\" y=\"{ny + 16}\" font-size=\"13\" font-weight=\"bold\" fill=\"#a35a12\">Node {node}</text>\n"));
            for (int local = 0; local < gpusPerNode; local++)
            {
                int gpu = (node * gpusPerNode) + local;
                int row = local / gpusPerRow, column = local % gpusPerRow;
                int gx = nx + NodePadding + LabelWidth + (column * (gpuWidth + Gap));
                int gy = ny + NodeHeader + (row * (gpuHeight + Gap));
                if (column == 0)
                {
                    for (int i = 0; i < layers.Count; i++)
                    {
                        sb.Append(Inv($"<text x=\"{nx + NodePadding}\" y=\"{gy + GpuHeader + (i * CellHeight) + 15}\" font-size=\"11\" fill=\"#555\">L{layers[i]}</text>\n"));
                    }
                }

                AppendGpu(sb, a, layers, gpu, gx, gy, gpuWidth, gpuHeight, maxLoad);
            }

            sb.Append("</g>\n");
        }

        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void AppendGpu(StringBuilder sb, PlanAnalysis a, IReadOnlyList<int> layers, int gpu, int x, int y, int width, int height, double maxLoad)
    {
        int slotsPerGpu = a.Config.SlotsPerGpu;
        sb.Append(Inv($"<g class=\"gpu\" data-gpu=\"{gpu}\">\n"));
        sb.Append(Inv($"<rect x=\"{x}\" y=\"{y}\" width=\"{width}\" height=\"{height}\" rx=\"4\" fill=\"#eef4fb\" stroke=\"#3a6ea5\" stroke-width=\"1.5\"/>\n"));
        sb.Append(Inv($"<text x=\"{x + GpuPadding}\" y=\"{y + 13}\" font-size=\"11\" fill=\"#1f4e79\">GPU {gpu}</text>\n"));
        for (int i = 0; i < layers.Count; i++)
        {
            double total = 0;
            int rowY = y + GpuHeader + (i * CellHeight);
            for (int s = 0; s < slotsPerGpu; s++)
            {
                int slot = (gpu * slotsPerGpu) + s;
                total += a.ReplicaLoad(layers[i], slot);
                AppendSlot(sb, a, layers[i], slot, x + GpuPadding + (s * CellWidth), rowY, maxLoad);
            }

            sb.Append(Inv($"<text class=\"gpu-load\" x=\"{x + width - GpuPadding}\" y=\"{rowY + 15}\" font-size=\"10\" text-anchor=\"end\" fill=\"#1f4e79\">{Compact(total)}</text>\n"));
        }

        sb.Append("</g>\n");
    }

    private static void AppendSlot(StringBuilder sb, PlanAnalysis a, int layer, int slot, int x, int y, double maxLoad)
    {
        int expert = a.Plan.GetPhysicalToLogical(layer)[slot];
        if (expert < 0)
        {
            // A slot on an unavailable GPU: hatched grey, no expert.
            sb.Append(Inv($"<g class=\"slot unavailable\" data-layer=\"{layer}\" data-slot=\"{slot}\" data-expert=\"-1\"><title>layer {layer}, slot {slot}: GPU unavailable</title>"));
            sb.Append(Inv($"<rect x=\"{x + 1}\" y=\"{y + 1}\" width=\"{CellWidth - 2}\" height=\"{CellHeight - 2}\" fill=\"#d0d0d0\" stroke=\"#9aa9b8\" stroke-width=\"0.5\"/>"));
            sb.Append(Inv($"<path d=\"M{x + 1} {y + CellHeight - 1} L{x + CellWidth - 1} {y + 1}\" stroke=\"#888\" stroke-width=\"1\"/></g>\n"));
            return;
        }

        double load = a.ReplicaLoad(layer, slot);
        double t = maxLoad > 0 ? load / maxLoad : 0;
        string text = t > 0.6 ? "#ffffff" : "#222222";
        int replicas = a.Plan.GetLogicalReplicaCount(layer)[expert];
        sb.Append(Inv($"<g class=\"slot{(replicas > 1 ? " replicated" : "")}\" data-layer=\"{layer}\" data-slot=\"{slot}\" data-expert=\"{expert}\" data-replicas=\"{replicas}\">"));
        sb.Append(Inv($"<title>layer {layer}, slot {slot}: expert {expert} ({replicas} replica{(replicas == 1 ? "" : "s")}), load {load:0.##}</title>"));
        sb.Append(Inv($"<rect x=\"{x + 1}\" y=\"{y + 1}\" width=\"{CellWidth - 2}\" height=\"{CellHeight - 2}\" fill=\"{Shade(t)}\" stroke=\"#9aa9b8\" stroke-width=\"0.5\"/>"));
        if (replicas > 1)
        {
            // A corner triangle and the replica count: the slot shares its expert with others.
            sb.Append(Inv($"<path d=\"M{x + CellWidth - 9} {y + 1} h8 v8 z\" fill=\"#6a1b9a\"/>"));
            sb.Append(Inv($"<text x=\"{x + 3}\" y=\"{y + 9}\" font-size=\"7\" fill=\"{text}\">x{replicas}</text>"));
        }

        sb.Append(Inv($"<text x=\"{x + (CellWidth / 2)}\" y=\"{y + 17}\" font-size=\"{(expert >= 1000 ? 9 : 11)}\" text-anchor=\"middle\" fill=\"{text}\">{expert}</text></g>\n"));
    }

    // The shade scale: white for no load to deep orange for the heaviest replica drawn.
    private static void AppendLegend(StringBuilder sb, int x, int y, double maxLoad)
    {
        sb.Append("<g class=\"legend\">\n<defs><linearGradient id=\"shade\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">");
        sb.Append(Inv($"<stop offset=\"0\" stop-color=\"{Shade(0)}\"/><stop offset=\"1\" stop-color=\"{Shade(1)}\"/></linearGradient></defs>\n"));
        sb.Append(Inv($"<text x=\"{x}\" y=\"{y + 12}\" font-size=\"11\" fill=\"#444\">load per replica</text>\n"));
        sb.Append(Inv($"<rect x=\"{x + 90}\" y=\"{y + 2}\" width=\"{LegendWidth}\" height=\"12\" fill=\"url(#shade)\" stroke=\"#9aa9b8\" stroke-width=\"0.5\"/>\n"));
        sb.Append(Inv($"<text x=\"{x + 90}\" y=\"{y + 26}\" font-size=\"10\" fill=\"#444\">0</text>\n"));
        sb.Append(Inv($"<text x=\"{x + 90 + LegendWidth}\" y=\"{y + 26}\" font-size=\"10\" text-anchor=\"end\" fill=\"#444\">{Compact(maxLoad)}</text>\n"));
        sb.Append(Inv($"<path d=\"M{x + 100 + LegendWidth} {y + 2} h10 v10 z\" fill=\"#6a1b9a\"/><text x=\"{x + 116 + LegendWidth}\" y=\"{y + 12}\" font-size=\"11\" fill=\"#444\">replicated expert</text>\n"));
        sb.Append("</g>\n");
    }

    private static string Shade(double t)
    {
        int r = (int)Math.Round(255 - (t * (255 - 204))), g = (int)Math.Round(255 - (t * (255 - 85))), b = (int)Math.Round(255 - (t * 255));
        return Inv($"#{r:x2}{g:x2}{b:x2}");
    }

    // Loads in at most five characters: 4213, 12.4k, 1.2M.
    private static string Compact(double value) => value switch
    {
        >= 9_999_500 => Inv($"{value / 1e6:0.#}M"),
        >= 99_950 => Inv($"{value / 1e3:0}k"),
        >= 9_999.5 => Inv($"{value / 1e3:0.#}k"),
        >= 100 => Inv($"{value:0}"),
        _ => Inv($"{value:0.#}"),
    };

    // About 0.6 em a character for Helvetica's digits and lower case; generous, so labels stay inside their boxes.
    private static int TextWidth(string text, int fontSize) => (int)Math.Ceiling(text.Length * fontSize * 0.6);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
