using System.Numerics.Tensors;

namespace Eplb;

/// <summary>One layer of <see cref="PlacementDiagnostics"/>.</summary>
public sealed class LayerDiagnostics
{
    private readonly double[] _gpuLoads;
    private readonly double[] _nodeLoads;
    private readonly int[] _replicaCounts;

    private LayerDiagnostics(int layer, double[] gpuLoads, double[] nodeLoads, int[] replicaCounts, int availableGpus, double total, double maxShare, int duplicates)
    {
        Layer = layer;
        _gpuLoads = gpuLoads;
        _nodeLoads = nodeLoads;
        _replicaCounts = replicaCounts;
        AvailableGpus = availableGpus;
        MaxGpuLoad = TensorPrimitives.Max<double>(gpuLoads);
        MeanGpuLoad = total / availableGpus;
        Balancedness = MaxGpuLoad == 0 ? 1.0 : MeanGpuLoad / MaxGpuLoad;
        LowerBound = Math.Max(MeanGpuLoad, maxShare);
        MaxOverLowerBound = LowerBound == 0 ? 1.0 : MaxGpuLoad / LowerBound;
        Duplicates = duplicates;
    }

    /// <summary>The layer's index.</summary>
    public int Layer { get; }

    /// <summary>Each GPU's load: the sum over its slots of its expert's load per replica.</summary>
    public ReadOnlySpan<double> GpuLoads => _gpuLoads;

    /// <summary>Each node's load: the sum of its GPUs' loads.</summary>
    public ReadOnlySpan<double> NodeLoads => _nodeLoads;

    /// <summary>How many slots hold each logical expert (<c>logcnt</c>).</summary>
    public ReadOnlySpan<int> ReplicaCounts => _replicaCounts;

    /// <summary>GPUs with at least one slot in use (not all <c>-1</c>).</summary>
    public int AvailableGpus { get; }

    /// <summary>The busiest GPU's load.</summary>
    public double MaxGpuLoad { get; }

    /// <summary>The layer's total load over the available GPUs.</summary>
    public double MeanGpuLoad { get; }

    /// <summary><see cref="MeanGpuLoad"/> / <see cref="MaxGpuLoad"/>: 1.0 is perfect.</summary>
    public double Balancedness { get; }

    /// <summary>
    /// <c>LB = max(W / G, m*)</c>: no placement of these loads on the available GPUs' slots has a busiest GPU lighter
    /// than this. <c>m*</c> is the least possible largest load per replica, over replica counts that fill the slots.
    /// </summary>
    public double LowerBound { get; }

    /// <summary><see cref="MaxGpuLoad"/> / <see cref="LowerBound"/>: 1.0 means no placement can do better.</summary>
    public double MaxOverLowerBound { get; }

    /// <summary>Slots wasted on duplicates: replicas of an expert on a GPU that already holds one.</summary>
    public int Duplicates { get; }

    internal static LayerDiagnostics Of(int layer, ReadOnlySpan<float> weight, ReadOnlySpan<int> slots, int numGpus, int numNodes)
    {
        int experts = weight.Length, slotsPerGpu = slots.Length / numGpus;
        var counts = new int[experts];
        int usedSlots = 0;
        foreach (int expert in slots)
        {
            if (expert < -1 || expert >= experts)
            {
                ThrowHelper.Throw("physicalToLogical", $"layer {layer} places expert {expert}, but experts run from 0 to {experts - 1} (-1 marks a slot on an unavailable GPU).");
            }

            if (expert >= 0)
            {
                counts[expert]++;
                usedSlots++;
            }
        }

        int missing = Array.IndexOf(counts, 0);
        if (missing >= 0)
        {
            ThrowHelper.Throw("physicalToLogical", $"layer {layer} places no replica of expert {missing}; every expert needs a slot.");
        }

        var gpuLoads = new double[numGpus];
        var nodeLoads = new double[numNodes];
        int availableGpus = 0, duplicates = 0;
        double total = 0;
        for (int g = 0; g < numGpus; g++)
        {
            ReadOnlySpan<int> gpu = slots.Slice(g * slotsPerGpu, slotsPerGpu);
            bool available = false;
            for (int s = 0; s < gpu.Length; s++)
            {
                int expert = gpu[s];
                if (expert < 0)
                {
                    continue;
                }

                available = true;
                gpuLoads[g] += weight[expert] / (double)counts[expert];
                duplicates += gpu.Slice(0, s).Contains(expert) ? 1 : 0;
            }

            availableGpus += available ? 1 : 0;
            nodeLoads[g / (numGpus / numNodes)] += gpuLoads[g];
            total += gpuLoads[g];
        }

        return new LayerDiagnostics(layer, gpuLoads, nodeLoads, counts, availableGpus, total, global::Eplb.ReplicaCounts.LeastLargestShare(weight, usedSlots), duplicates);
    }
}
