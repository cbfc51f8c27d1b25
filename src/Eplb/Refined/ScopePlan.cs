namespace Eplb;

/// <summary>
/// A placement of one scope's experts — a node's under the hierarchical policy, the layer's under the global one — on
/// its GPUs, which the refined placer builds and improves: replica counts, each slot's expert, each GPU's load.
/// </summary>
/// <remarks>
/// Experts are numbered within the scope (0 to <see cref="Experts"/> - 1); GPU <c>g</c> owns slots
/// <c>[g × SlotsPerGpu, (g + 1) × SlotsPerGpu)</c>. Loads are <see cref="double"/> sums in slot order, as
/// <see cref="LayerDiagnostics"/> computes them, so that the comparisons the placer makes are the ones users see.
/// </remarks>
internal sealed class ScopePlan
{
    public int Experts { get; private set; }

    public int Gpus { get; private set; }

    public int SlotsPerGpu { get; private set; }

    public int Slots => Gpus * SlotsPerGpu;

    /// <summary>Each expert's load.</summary>
    public double[] Weight { get; private set; } = [];

    /// <summary>Each expert's replica count.</summary>
    public int[] Counts { get; private set; } = [];

    /// <summary>Each slot's expert.</summary>
    public int[] SlotExpert { get; private set; } = [];

    /// <summary>Each GPU's load, once <see cref="ComputeLoads"/> has run.</summary>
    public double[] Loads { get; private set; } = [];

    public long Bytes => (sizeof(double) * ((long)Weight.Length + Loads.Length)) + (sizeof(int) * ((long)Counts.Length + SlotExpert.Length));

    /// <summary>Sizes the plan for a scope; contents undefined until filled.</summary>
    public void Reset(int experts, int gpus, int slotsPerGpu)
    {
        Experts = experts;
        Gpus = gpus;
        SlotsPerGpu = slotsPerGpu;
        if (Weight.Length < experts)
        {
            Weight = new double[experts];
            Counts = new int[experts];
        }

        if (SlotExpert.Length < gpus * slotsPerGpu)
        {
            SlotExpert = new int[gpus * slotsPerGpu];
        }

        if (Loads.Length < gpus)
        {
            Loads = new double[gpus];
        }
    }

    /// <summary>The load each replica of <paramref name="expert"/> carries.</summary>
    public double Share(int expert) => Weight[expert] / Counts[expert];

    /// <summary>Recomputes every GPU's load from its slots, and returns the largest.</summary>
    public double ComputeLoads()
    {
        double max = 0;
        for (int g = 0, s = 0; g < Gpus; g++)
        {
            double load = 0;
            for (int end = s + SlotsPerGpu; s < end; s++)
            {
                int e = SlotExpert[s];
                load += Weight[e] / (double)Counts[e];
            }

            Loads[g] = load;
            max = Math.Max(max, load);
        }

        return max;
    }

    /// <summary>The busiest GPU (the lowest of equals).</summary>
    public int BusiestGpu()
    {
        int busiest = 0;
        for (int g = 1; g < Gpus; g++)
        {
            if (Loads[g] > Loads[busiest])
            {
                busiest = g;
            }
        }

        return busiest;
    }

    /// <summary>Whether GPU <paramref name="gpu"/> holds a replica of <paramref name="expert"/>.</summary>
    public bool Holds(int gpu, int expert) => SlotExpert.AsSpan(gpu * SlotsPerGpu, SlotsPerGpu).Contains(expert);

    /// <summary>Slots holding a second or later replica of an expert on the same GPU.</summary>
    public int Duplicates()
    {
        int duplicates = 0;
        for (int g = 0; g < Gpus; g++)
        {
            ReadOnlySpan<int> gpu = SlotExpert.AsSpan(g * SlotsPerGpu, SlotsPerGpu);
            for (int s = 1; s < gpu.Length; s++)
            {
                duplicates += gpu.Slice(0, s).Contains(gpu[s]) ? 1 : 0;
            }
        }

        return duplicates;
    }

    /// <summary>Makes this plan a copy of <paramref name="other"/> (same scope).</summary>
    public void CopyFrom(ScopePlan other)
    {
        Reset(other.Experts, other.Gpus, other.SlotsPerGpu);
        other.Weight.AsSpan(0, Experts).CopyTo(Weight);
        other.Counts.AsSpan(0, Experts).CopyTo(Counts);
        other.SlotExpert.AsSpan(0, Slots).CopyTo(SlotExpert);
        other.Loads.AsSpan(0, Gpus).CopyTo(Loads);
    }
}
