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
            LayerScheduler.PlaceLayers<TPlacer>(weight, shape, options, physicalToLogical, ranks, logicalReplicaCount);
            int maxReplicaCount = TensorPrimitives.Max<int>(logicalReplicaCount);

            // log2phy's last dimension is known only now; the replica counts make this overflow implausible, not impossible.
            ThrowHelper.ThrowIfProductTooLarge(shape.Entries, maxReplicaCount, nameof(weight));
            int[] logicalToPhysical = GC.AllocateUninitializedArray<int>(shape.Entries * maxReplicaCount);
            LogicalToPhysicalMap.Fill(physicalToLogical, ranks, shape, maxReplicaCount, logicalToPhysical);
            return new RebalancePlan(shape.Layers, shape.Experts, shape.Replicas, maxReplicaCount, shape.Policy,
                physicalToLogical, logicalToPhysical, logicalReplicaCount);
        }
        finally
        {
            Scratch.Return(ranks);
        }
    }

    /// <summary>
    /// Plans every layer into the caller's buffers; <see langword="false"/>, with nothing written, when one is too small.
    /// The buffers must not overlap each other or the loads (callers check).
    /// </summary>
    public static bool TryRebalance<TPlacer>(ReadOnlySpan<float> weight, in RebalanceShape shape, RebalanceOptions options,
        Span<int> physicalToLogical, Span<int> logicalToPhysical, Span<int> logicalReplicaCount, out int maxReplicaCount)
        where TPlacer : struct, ILayerPlacer<TPlacer>
    {
        maxReplicaCount = 0;
        int slots = shape.Slots, entries = shape.Entries;
        if (physicalToLogical.Length < slots || logicalReplicaCount.Length < entries)
        {
            return false;
        }

        // A log2phy buffer of worst-case size cannot turn out too small, so the plan goes straight into the
        // destinations; otherwise it is staged, because a failed call must write nothing.
        bool staged = logicalToPhysical.Length < WorstCaseLogicalToPhysicalLength(shape);
        int[] ranks = Scratch.Rent<int>(slots);
        int[]? stagedSlots = staged ? Scratch.Rent<int>(slots) : null;
        int[]? stagedCounts = staged ? Scratch.Rent<int>(entries) : null;
        try
        {
            Span<int> p2l = staged ? stagedSlots.AsSpan(0, slots) : physicalToLogical.Slice(0, slots);
            Span<int> counts = staged ? stagedCounts.AsSpan(0, entries) : logicalReplicaCount.Slice(0, entries);
            LayerScheduler.PlaceLayers<TPlacer>(weight, shape, options, p2l, ranks, counts);
            int max = TensorPrimitives.Max<int>(counts);
            if ((long)entries * max > logicalToPhysical.Length)
            {
                return false;
            }

            if (staged)
            {
                p2l.CopyTo(physicalToLogical);
                counts.CopyTo(logicalReplicaCount);
            }

            LogicalToPhysicalMap.Fill(p2l, ranks, shape, max, logicalToPhysical.Slice(0, entries * max));
            maxReplicaCount = max;
            return true;
        }
        finally
        {
            Scratch.Return(ranks);
            Scratch.Return(stagedSlots);
            Scratch.Return(stagedCounts);
        }
    }

    /// <summary>A <c>log2phy</c> length that suffices for any loads: no expert has more than <c>P - E + 1</c> replicas.</summary>
    public static long WorstCaseLogicalToPhysicalLength(in RebalanceShape shape) => (long)shape.Entries * (shape.Replicas - shape.Experts + 1);
}
