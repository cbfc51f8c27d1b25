using System.Globalization;
using System.Security;
using System.Text;

namespace Eplb.Cli;

/// <summary>
/// The placement drawn like the reference README's figure: a box per node, GPU boxes inside, one row of slots
/// per drawn layer; each slot shows its expert id and is shaded by the load its replica carries.
/// </summary>
internal static class SvgReport
{
    private const int CellWidth = 30, CellHeight = 22, GpuPadding = 6, GpuHeader = 18, Gap = 10, NodePadding = 12, NodeHeader = 22;
    private const int LabelWidth = 56, MaxGpusPerRow = 8, Margin = 16, TitleHeight = 48;

    public static string Render(PlanAnalysis a, IReadOnlyList<int> layers)
    {
        ClusterConfig c = a.Config;
        int slotsPerGpu = c.SlotsPerGpu, gpusPerNode = c.GpusPerNode;
        int gpusPerRow = Math.Min(gpusPerNode, MaxGpusPerRow);
        int gpuRows = (gpusPerNode + gpusPerRow - 1) / gpusPerRow;
        int gpuWidth = (slotsPerGpu * CellWidth) + (2 * GpuPadding);
        int gpuHeight = GpuHeader + (layers.Count * CellHeight) + GpuPadding;
        int nodeWidth = LabelWidth + (gpusPerRow * (gpuWidth + Gap)) - Gap + (2 * NodePadding);
        int nodeHeight = NodeHeader + (gpuRows * (gpuHeight + Gap)) - Gap + NodePadding;
        string layerList = layers.Count == a.Loads.Layers ? "all layers" : "layers " + string.Join(", ", layers);
        string title = Inv($"EPLB placement: {c.Replicas} replicas of {a.Loads.Experts} experts on {c.Gpus} GPUs in {c.Nodes} nodes ({TableReport.Policy(a.Plan.Policy)})");
        string caption = $"{layerList}; each cell is a physical slot labelled with its logical expert, shaded by the load its replica carries (darker = heavier)";

        // Wide enough for the title and caption too (about 9.5 and 6.5 pixels a character at 16 and 12 points).
        int width = Math.Max(nodeWidth, Math.Max((int)(title.Length * 9.5), (int)(caption.Length * 6.5))) + (2 * Margin);
        int height = TitleHeight + (c.Nodes * (nodeHeight + Gap)) - Gap + (2 * Margin);

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
        sb.Append(Inv($"<text x=\"{Margin}\" y=\"{Margin + 34}\" font-size=\"12\" fill=\"#444\">{SecurityElement.Escape(caption)}</text>\n"));

        for (int node = 0; node < c.Nodes; node++)
        {
            int nx = Margin, ny = Margin + TitleHeight + (node * (nodeHeight + Gap));
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
                        sb.Append(Inv($"<text x=\"{nx + NodePadding}\" y=\"{gy + GpuHeader + (i * CellHeight) + 15}\" font-size=\"11\" fill=\"#555\">layer {layers[i]}</text>\n"));
                    }
                }

                sb.Append(Inv($"<g class=\"gpu\" data-gpu=\"{gpu}\">\n"));
                sb.Append(Inv($"<rect x=\"{gx}\" y=\"{gy}\" width=\"{gpuWidth}\" height=\"{gpuHeight}\" rx=\"4\" fill=\"#eef4fb\" stroke=\"#3a6ea5\" stroke-width=\"1.5\"/>\n"));
                sb.Append(Inv($"<text x=\"{gx + GpuPadding}\" y=\"{gy + 13}\" font-size=\"11\" fill=\"#1f4e79\">GPU {gpu}</text>\n"));
                for (int i = 0; i < layers.Count; i++)
                {
                    for (int s = 0; s < slotsPerGpu; s++)
                    {
                        AppendSlot(sb, a, layers[i], (gpu * slotsPerGpu) + s, gx + GpuPadding + (s * CellWidth), gy + GpuHeader + (i * CellHeight), maxLoad);
                    }
                }

                sb.Append("</g>\n");
            }

            sb.Append("</g>\n");
        }

        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void AppendSlot(StringBuilder sb, PlanAnalysis a, int layer, int slot, int x, int y, double maxLoad)
    {
        int expert = a.Plan.GetPhysicalToLogical(layer)[slot];
        double load = a.ReplicaLoad(layer, slot);
        double t = maxLoad > 0 ? load / maxLoad : 0;
        // White to deep orange; light text on the darkest cells.
        int r = (int)Math.Round(255 - (t * (255 - 204))), g = (int)Math.Round(255 - (t * (255 - 85))), b = (int)Math.Round(255 - (t * 255));
        string text = t > 0.6 ? "#ffffff" : "#222222";
        int replicas = a.Plan.GetLogicalReplicaCount(layer)[expert];
        sb.Append(Inv($"<g class=\"slot\" data-layer=\"{layer}\" data-slot=\"{slot}\" data-expert=\"{expert}\">"));
        sb.Append(Inv($"<title>layer {layer}, slot {slot}: expert {expert} ({replicas} replica{(replicas == 1 ? "" : "s")}), load {load:0.##}</title>"));
        sb.Append(Inv($"<rect x=\"{x + 1}\" y=\"{y + 1}\" width=\"{CellWidth - 2}\" height=\"{CellHeight - 2}\" fill=\"#{r:x2}{g:x2}{b:x2}\" stroke=\"#9aa9b8\" stroke-width=\"0.5\"/>"));
        sb.Append(Inv($"<text x=\"{x + (CellWidth / 2)}\" y=\"{y + 15}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{text}\">{expert}</text></g>\n"));
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
