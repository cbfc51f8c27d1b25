using System.Numerics.Tensors;

namespace Eplb;

/// <summary>
/// <c>rebalance_experts</c> around a per-layer placer: places every layer, then assembles <c>log2phy</c> and the
/// plan — into new arrays, or into the caller's buffers with nothing written unless all of the plan fits.
/// </summary>
/// <remarks>
/// Callers validate first (<see cref="RebalanceShape.Validate"/>, the loads, and for <c>Try</c> the destinations'
/// overlaps); the driver takes validated rows.
/// </remarks>
internal static class RebalanceDriver
{
    /// <summary>Plans every layer and returns a new plan.</summary>
    /// <exception cref="ArgumentException"><c>log2phy</c> would exceed the largest array .NET can allocate.</exception>
    public static RebalancePlan Rebalance<TPlacer>(ReadOnlySpan<float> weight, in RebalanceShape shape, RebalanceOptions options)
        where TPlacer : struct, ILayerPlacer<TPlacer>
    {
        int[] physicalToLogical = GC.AllocateUninitializedArray<int>(shape.Slots);
        int[] logicalReplicaCount = GC.AllocateUninitializedArray<int>(shape.Entries);
        int[] ranks = Scratch.Rent<int>(shape.Slots);
        try
        {
            PlaceLayers<TPlacer>(weight, shape, options, physicalToLogical, ranks, logicalReplicaCount);
            return Assemble(shape, physicalToLogical, ranks, logicalReplicaCount);
        }
        finally
        {
            Scratch.Return(ranks);
        }
    }

    /// <summary>
    /// A plan from its rows — <c>phy2log</c>, each slot's replica rank, <c>logcnt</c> — with <c>log2phy</c> made as wide
    /// as the largest replica count: for the driver, and for plans made another way (budgeted migration).
    /// </summary>
    /// <exception cref="ArgumentException"><c>log2phy</c> would exceed the largest array .NET can allocate (named <c>weight</c>).</exception>
    public static RebalancePlan Assemble(in RebalanceShape shape, int[] physicalToLogical, ReadOnlySpan<int> ranks, int[] logicalReplicaCount)
    {
        int maxReplicaCount = TensorPrimitives.Max<int>(logicalReplicaCount);

        // log2phy's last dimension is known only now; the replica counts make this overflow implausible, not impossible.
        ThrowHelper.ThrowIfProductTooLarge(shape.Entries, maxReplicaCount, "weight");
        int[] logicalToPhysical = GC.AllocateUninitializedArray<int>(shape.Entries * maxReplicaCount);
        LogicalToPhysicalMap.Fill(physicalToLogical, ranks, shape, maxReplicaCount, logicalToPhysical);
        return new RebalancePlan(shape.Layers, shape.Experts, shape.Replicas, shape.Gpus, shape.RequestedNodes, maxReplicaCount, shape.Policy,
            physicalToLogical, logicalToPhysical, logicalReplicaCount);
    }

    /// <summary>
    /// Plans every layer into the caller's buffers; <see langword="false"/>, with nothing written, when one is too
    /// small. <c>log2phy</c> is written <paramref name="logicalToPhysicalWidth"/> wide, or exactly as wide as the plan
    /// needs when it is 0. Either way <paramref name="maxReplicaCount"/> is the width the plan needs. The buffers must
    /// not overlap each other or the loads (callers check).
    /// </summary>
    public static bool TryRebalance<TPlacer>(ReadOnlySpan<float> weight, in RebalanceShape shape, RebalanceOptions options,
        Span<int> physicalToLogical, Span<int> logicalToPhysical, int logicalToPhysicalWidth, Span<int> logicalReplicaCount, out int maxReplicaCount)
        where TPlacer : struct, ILayerPlacer<TPlacer>
    {
        int slots = shape.Slots, entries = shape.Entries;
        bool fits = physicalToLogical.Length >= slots && logicalReplicaCount.Length >= entries;

        // When log2phy is wide and long enough for any loads the call cannot fail, and the plan goes straight into the
        // destinations; otherwise it is staged, because a failed call must write nothing.
        long worstWidth = WorstCaseReplicaCount(shape);
        bool staged = !fits || (logicalToPhysicalWidth == 0
            ? logicalToPhysical.Length < entries * worstWidth
            : logicalToPhysicalWidth < worstWidth || logicalToPhysical.Length < (long)entries * logicalToPhysicalWidth);
        int[] ranks = Scratch.Rent<int>(slots);
        int[]? stagedSlots = staged ? Scratch.Rent<int>(slots) : null;
        int[]? stagedCounts = staged ? Scratch.Rent<int>(entries) : null;
        try
        {
            Span<int> p2l = staged ? stagedSlots.AsSpan(0, slots) : physicalToLogical.Slice(0, slots);
            Span<int> counts = staged ? stagedCounts.AsSpan(0, entries) : logicalReplicaCount.Slice(0, entries);
            PlaceLayers<TPlacer>(weight, shape, options, p2l, ranks, counts);
            maxReplicaCount = TensorPrimitives.Max<int>(counts);
            int width = logicalToPhysicalWidth == 0 ? maxReplicaCount : logicalToPhysicalWidth;
            if (!fits || width < maxReplicaCount || (long)entries * width > logicalToPhysical.Length)
            {
                return false;
            }

            if (staged)
            {
                p2l.CopyTo(physicalToLogical);
                counts.CopyTo(logicalReplicaCount);
            }

            LogicalToPhysicalMap.Fill(p2l, ranks, shape, width, logicalToPhysical.Slice(0, entries * width));
            return true;
        }
        finally
        {
            Scratch.Return(ranks);
            Scratch.Return(stagedSlots);
            Scratch.Return(stagedCounts);
        }
    }

    /// <summary>The most replicas any expert can get: <c>P - E + 1</c> of the slots in use (healthy GPUs' only).</summary>
    public static int WorstCaseReplicaCount(in RebalanceShape shape) => shape.Placed.Replicas - shape.Experts + 1;

    // With unavailable GPUs the placer plans the healthy GPUs' slots, numbered densely, and each healthy GPU's slots are
    // then moved to its own number; the slots of unavailable GPUs hold -1 and rank nothing.
    private static void PlaceLayers<TPlacer>(ReadOnlySpan<float> weight, in RebalanceShape shape, RebalanceOptions options,
        Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount)
        where TPlacer : struct, ILayerPlacer<TPlacer>
    {
        if (!shape.HasUnavailableGpus)
        {
            LayerScheduler.PlaceLayers<TPlacer>(weight, shape, options, physicalToLogical, replicaRank, logicalReplicaCount);
            return;
        }

        RebalanceShape placed = shape.Placed;
        int[] placedSlots = Scratch.Rent<int>(placed.Slots), placedRanks = Scratch.Rent<int>(placed.Slots);
        try
        {
            LayerScheduler.PlaceLayers<TPlacer>(weight, placed, options, placedSlots, placedRanks, logicalReplicaCount);
            physicalToLogical.Slice(0, shape.Slots).Fill(-1);
            replicaRank.Slice(0, shape.Slots).Clear();
            ReadOnlySpan<int> healthy = shape.HealthyGpus;
            int perGpu = shape.SlotsPerGpu;
            for (int layer = 0; layer < shape.Layers; layer++)
            {
                for (int k = 0; k < healthy.Length; k++)
                {
                    int from = (layer * placed.Replicas) + (k * perGpu), to = (layer * shape.Replicas) + (healthy[k] * perGpu);
                    placedSlots.AsSpan(from, perGpu).CopyTo(physicalToLogical.Slice(to, perGpu));
                    placedRanks.AsSpan(from, perGpu).CopyTo(replicaRank.Slice(to, perGpu));
                }
            }
        }
        finally
        {
            Scratch.Return(placedSlots);
            Scratch.Return(placedRanks);
        }
    }
}
