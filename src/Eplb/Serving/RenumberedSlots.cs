namespace Eplb;

/// <summary>
/// A relabelled plan's <c>log2phy</c> before it is built: the plan it was relabelled from and where each of that
/// plan's slots went. Each replica keeps its rank and moves with its slot.
/// </summary>
/// <remarks>
/// Built when first read rather than when relabelling: <c>log2phy</c> is the largest of a plan's arrays (padded to the
/// most replicas of any expert), and a server that relabels a fresh plan only to judge it — its copies, its balance —
/// never reads it.
/// </remarks>
internal sealed class RenumberedSlots(RebalancePlan source, int[] slotOf)
{
    /// <summary>This renumbering followed by <paramref name="then"/> (slot <c>s</c> of layer <c>l</c> becomes
    /// <c>then[l * slots + s]</c>), from the same source plan.</summary>
    public RenumberedSlots Then(int[] then)
    {
        int slots = source.NumPhysicalExperts;
        var composed = GC.AllocateUninitializedArray<int>(slotOf.Length);
        for (int at = 0; at < slotOf.Length; at += slots)
        {
            ReadOnlySpan<int> first = slotOf.AsSpan(at, slots), second = then.AsSpan(at, slots);
            Span<int> both = composed.AsSpan(at, slots);
            for (int s = 0; s < slots; s++)
            {
                both[s] = second[first[s]];
            }
        }

        return new RenumberedSlots(source, composed);
    }

    /// <summary>The source plan's <c>log2phy</c> with every slot renumbered; padding stays -1.</summary>
    public int[] BuildLogicalToPhysical()
    {
        ReadOnlySpan<int> sourceMap = source.LogicalToPhysicalSpan, counts = source.LogicalReplicaCountSpan;
        int layers = source.NumLayers, experts = source.NumLogicalExperts, slots = source.NumPhysicalExperts, width = source.MaxReplicaCount;
        var map = GC.AllocateUninitializedArray<int>(sourceMap.Length);
        map.AsSpan().Fill(-1);
        for (int l = 0, row = 0; l < layers; l++)
        {
            // Every expert has a replica; few have more.
            ReadOnlySpan<int> layerSlotOf = slotOf.AsSpan(l * slots, slots);
            for (int e = 0; e < experts; e++, row++)
            {
                int at = row * width;
                map[at] = layerSlotOf[sourceMap[at]];
                for (int r = 1; r < counts[row]; r++)
                {
                    map[at + r] = layerSlotOf[sourceMap[at + r]];
                }
            }
        }

        return map;
    }
}
