using System.Globalization;
using System.Text;

namespace Eplb.Cli;

/// <summary>One row per physical slot: <c>layer,slot,gpu,node,expert,replica,load</c>, for spreadsheets (expert and replica -1 on an unavailable GPU).</summary>
internal static class CsvReport
{
    public static string Render(PlanAnalysis a)
    {
        var sb = new StringBuilder("layer,slot,gpu,node,expert,replica,load\n");
        RebalancePlan plan = a.Plan;
        for (int l = 0; l < plan.NumLayers; l++)
        {
            ReadOnlySpan<int> slots = plan.GetPhysicalToLogical(l);
            for (int p = 0; p < slots.Length; p++)
            {
                int gpu = p / a.Config.SlotsPerGpu;
                int expert = slots[p];
                int replica = expert < 0 ? -1 : plan.GetLogicalToPhysical(l, expert).IndexOf(p);
                sb.Append(CultureInfo.InvariantCulture, $"{l},{p},{gpu},{gpu / a.Config.GpusPerNode},{expert},{replica},{a.ReplicaLoad(l, p):0.###}\n");
            }
        }

        return sb.ToString();
    }
}
