using System.Text;
using System.Text.Json;

namespace Eplb.Cli;

/// <summary>
/// The plan as one JSON object: the reference's three outputs (<c>phy2log</c>, <c>log2phy</c>, <c>logcnt</c>) as
/// nested arrays a Python server can feed straight to its model, plus the policy and per-layer statistics.
/// </summary>
internal static class JsonReport
{
    public static string Render(PlanAnalysis a)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            RebalancePlan plan = a.Plan;
            w.WriteStartObject();
            w.WriteString("policy", TableReport.Policy(plan.Policy));
            w.WriteString("algorithm", ClusterOptions.Name(a.Config.Algorithm));
            w.WriteString("tie_order", ClusterOptions.Name(a.Config.TieOrder));
            w.WriteNumber("num_replicas", a.Config.Replicas);
            w.WriteNumber("num_groups", a.Config.Groups);
            w.WriteNumber("num_nodes", a.Config.Nodes);
            w.WriteNumber("num_gpus", a.Config.Gpus);
            w.WritePropertyName("phy2log");
            WriteMatrix(w, plan.NumLayers, plan.NumPhysicalExperts, (l, p) => plan.PhysicalToLogical[l, p]);
            w.WritePropertyName("log2phy");
            w.WriteStartArray();
            for (int l = 0; l < plan.NumLayers; l++)
            {
                WriteMatrix(w, plan.NumLogicalExperts, plan.MaxReplicaCount, (e, r) => plan.LogicalToPhysical[l, e, r]);
            }

            w.WriteEndArray();
            w.WritePropertyName("logcnt");
            WriteMatrix(w, plan.NumLayers, plan.NumLogicalExperts, (l, e) => plan.LogicalReplicaCount[l, e]);
            w.WriteStartArray("layers");
            foreach (LayerStats s in a.Layers)
            {
                w.WriteStartObject();
                w.WriteNumber("layer", s.Layer);
                w.WriteNumber("balancedness_before", Math.Round(s.Before, 6));
                w.WriteNumber("balancedness_after", Math.Round(s.After, 6));
                w.WriteNumber("max_gpu_load_before", Math.Round(s.BusiestGpuLoadBefore, 3));
                w.WriteNumber("max_gpu_load", Math.Round(s.BusiestGpuLoad, 3));
                w.WriteNumber("busiest_gpu", s.BusiestGpu);
                w.WriteNumber("mean_gpu_load", Math.Round(s.MeanGpuLoad, 3));
                w.WriteNumber("lower_bound", Math.Round(s.LowerBound, 3));
                w.WriteNumber("max_over_lower_bound", Math.Round(s.MaxOverLowerBound, 6));
                w.WriteNumber("duplicates", s.Duplicates);
                if (a.Locality is LocalityCost layerLocality)
                {
                    w.WriteNumber("hierarchical_over_lower_bound", Math.Round(layerLocality.Ratios[s.Layer], 6));
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("summary");
            w.WriteNumber("balancedness_before", Math.Round(a.MeanBefore, 6));
            w.WriteNumber("balancedness_after", Math.Round(a.MeanAfter, 6));
            w.WriteNumber("balancedness", Math.Round(a.Diagnostics.Balancedness, 6));
            if (a.Locality is LocalityCost locality)
            {
                w.WriteNumber("locality_cost", Math.Round(locality.Mean, 6));
                w.WriteNumber("locality_cost_worst", Math.Round(locality.Worst, 6));
            }

            w.WriteEndObject();
            if (a.Migration is PlanMigration m)
            {
                WriteMigration(w, m, a.FreshCopiesOrDefault, a.MaxCopiesPerLayer);
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary><c>"migration": {"copies", "fresh_copies", "moves": [{layer, expert, gpu, slot, source_gpu}, …]}</c>.</summary>
    internal static void WriteMigration(Utf8JsonWriter w, PlanMigration m, int freshCopies, int? maxCopiesPerLayer = null)
    {
        w.WriteStartObject("migration");
        w.WriteNumber("copies", m.Copies);
        w.WriteNumber("fresh_copies", freshCopies);
        if (maxCopiesPerLayer is int budget)
        {
            w.WriteNumber("max_copies_per_layer", budget);
        }

        w.WriteStartArray("moves");
        foreach (ExpertCopy copy in m.Moves)
        {
            w.WriteStartObject();
            w.WriteNumber("layer", copy.Layer);
            w.WriteNumber("expert", copy.Expert);
            w.WriteNumber("gpu", copy.Gpu);
            w.WriteNumber("slot", copy.Slot);
            w.WriteNumber("source_gpu", copy.SourceGpu);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteMatrix(Utf8JsonWriter w, int rows, int columns, Func<int, int, int> at)
    {
        w.WriteStartArray();
        for (int i = 0; i < rows; i++)
        {
            w.WriteStartArray();
            for (int j = 0; j < columns; j++)
            {
                w.WriteNumberValue(at(i, j));
            }

            w.WriteEndArray();
        }

        w.WriteEndArray();
    }
}
