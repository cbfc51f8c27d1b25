using System.Numerics.Tensors;

namespace Eplb;

/// <summary>
/// Move-minimising re-placement: a fresh plan relabelled so that it copies as few expert weights as possible
/// from the placement in force, with exactly the fresh plan's per-GPU loads — hence its balance and replica counts.
/// </summary>
/// <remarks>
/// <para>
/// A plan's GPU numbers are labels: permuting GPUs, and slots within a GPU, keeps every GPU's load. Under the
/// hierarchical policy whole nodes are permuted and GPUs within each node, so that a group's experts stay on one
/// node; under the global policy any GPUs. Per layer, the relabelling that keeps the most replicas where they
/// already are is an assignment problem, solved exactly (see <c>docs/architecture.md</c>). An expert that stays on
/// its GPU keeps its slot. GPUs the fresh plan leaves empty (unavailable, all slots -1) keep their number.
/// </para>
/// <para>
/// A copy is an expert a GPU must receive: on it in the new plan, not on it in the placement in force, counted once
/// per GPU and expert (docs/load-model.md, "Moves").
/// </para>
/// <para>
/// The relabelled plan's <see cref="RebalancePlan.LogicalToPhysical"/> is built when first read, as the list of
/// copies is: a server that relabels a fresh plan to judge it (<see cref="RebalanceDecision"/> reads placements only)
/// and decides not to migrate pays for neither.
/// </para>
/// </remarks>
public static class PlanRelabelling
{
    /// <summary>
    /// Relabels <paramref name="fresh"/> against <paramref name="placementInForce"/> and lists the copies it takes.
    /// </summary>
    /// <param name="fresh">A plan made for new loads.</param>
    /// <param name="placementInForce">
    /// The placement serving now: its <c>phy2log</c>, <c>[layers, slots]</c> of the fresh plan's shape, as any server
    /// holds it (a Python server's plan in force will do); -1 for slots on unavailable GPUs.
    /// </param>
    /// <returns>The relabelled plan and its migration.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="fresh"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="placementInForce"/> does not hold <c>layers × slots</c> entries.</exception>
    /// <exception cref="ArgumentException"><paramref name="placementInForce"/> places an expert outside <c>[-1, experts)</c>.</exception>
    public static RelabelledPlan Relabel(RebalancePlan fresh, ReadOnlySpan<int> placementInForce) => Relabel(fresh, placementInForce, permuteNodes: true);

    /// <summary><see cref="Relabel(RebalancePlan, ReadOnlySpan{int})"/>, with node permutations optional (to measure what they add).</summary>
    internal static RelabelledPlan Relabel(RebalancePlan fresh, ReadOnlySpan<int> placementInForce, bool permuteNodes)
    {
        ArgumentNullException.ThrowIfNull(fresh);
        ThrowIfNotAPlacement(fresh, placementInForce);
        int layers = fresh.NumLayers, slots = fresh.NumPhysicalExperts, gpus = fresh.NumGpus, experts = fresh.NumLogicalExperts;
        int nodes = fresh.Policy == RebalancePolicy.Hierarchical ? fresh.NumNodes : 1;
        var physicalToLogical = GC.AllocateUninitializedArray<int>(layers * slots);
        var slotOfAll = GC.AllocateUninitializedArray<int>(layers * slots); // kept: log2phy is built from it when read

        // The per-layer scratch is kept between calls on this thread (RebalanceLimits.MaxRetainedScratchBytes).
        Workspace workspace = t_workspace ?? new Workspace();
        t_workspace = null;
        GpuRelabelling relabelling = workspace.Relabelling;
        SlotMatching slotMatching = workspace.SlotMatching;
        Span<int> position = workspace.Position(gpus);
        int copies = 0, freshCopies = 0;
        for (int l = 0; l < layers; l++)
        {
            ReadOnlySpan<int> old = placementInForce.Slice(l * slots, slots), next = fresh.GetPhysicalToLogical(l);
            Span<int> slotOf = slotOfAll.AsSpan(l * slots, slots);
            freshCopies += relabelling.Solve(next, old, gpus, nodes, experts, permuteNodes, position);
            copies += slotMatching.Match(next, old, position, experts, slotOf);

            Span<int> placed = physicalToLogical.AsSpan(l * slots, slots);
            for (int s = 0; s < slots; s++)
            {
                placed[slotOf[s]] = next[s];
            }
        }

        // Kept when small: the scratch sized by GPUs, experts and slots (about 32 bytes per slot and expert), and the
        // scratch sized by the edges.
        if (Scratch.MayRetain(32L * (slots + experts)) && Scratch.MayRetain(relabelling.EdgeScratchBytes))
        {
            t_workspace = workspace;
        }

        RebalancePlan relabelled = fresh.Renumbered(physicalToLogical, slotOfAll);
        return new RelabelledPlan(relabelled, PlanMigration.Counted(placementInForce.ToArray(), relabelled, copies, freshCopies));
    }

    [ThreadStatic]
    private static Workspace? t_workspace;

    /// <summary>What relabelling one layer needs, sized by the largest plan seen.</summary>
    private sealed class Workspace
    {
        private int[] _position = [];

        public GpuRelabelling Relabelling { get; } = new();

        public SlotMatching SlotMatching { get; } = new();

        public Span<int> Position(int gpus)
        {
            Scratch.Grow(ref _position, gpus);
            return _position.AsSpan(0, gpus);
        }
    }

    internal static void ThrowIfNotAPlacement(RebalancePlan plan, ReadOnlySpan<int> placement)
    {
        if (placement.Length != plan.NumLayers * plan.NumPhysicalExperts)
        {
            ThrowHelper.Throw("placementInForce", $"placementInForce must hold layers x slots = {plan.NumLayers * plan.NumPhysicalExperts} entries, but holds {placement.Length}.");
        }

        if (placement.Length > 0 && (TensorPrimitives.Min(placement) < -1 || TensorPrimitives.Max(placement) >= plan.NumLogicalExperts))
        {
            int expert = TensorPrimitives.Min(placement) < -1 ? TensorPrimitives.Min(placement) : TensorPrimitives.Max(placement);
            ThrowHelper.Throw("placementInForce", $"placementInForce places expert {expert}, but experts run from 0 to {plan.NumLogicalExperts - 1} (-1: unavailable).");
        }
    }
}
