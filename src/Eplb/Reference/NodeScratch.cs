namespace Eplb;

/// <summary>
/// Scratch for one node in progress: steps 2 and 3 of the reference leave its replicas here until they are written
/// into the layer's rows.
/// </summary>
internal sealed class NodeScratch
{
    /// <summary><c>phy2mlog</c> of the node's slots, as node-local expert ids.</summary>
    public int[] SlotExpert { get; private set; } = [];

    /// <summary><c>phyrank</c> of the node's slots.</summary>
    public int[] SlotReplicaRank { get; private set; } = [];

    /// <summary>Where packing puts each of the node's replicas: GPU * slots per GPU + rank on the GPU.</summary>
    public int[] SlotPosition { get; private set; } = [];

    /// <summary>Packing's sort keys: the node's replicas (or the groups, when packing groups onto nodes).</summary>
    public SortKey[] Keys { get; private set; } = [];

    /// <summary>Packing's tournament tree over the packs.</summary>
    public ulong[] Tree { get; private set; } = [];

    /// <summary>Packing's item count per pack.</summary>
    public int[] Counts { get; private set; } = [];

    public PackingScratch Packing => new(Keys, Tree, Counts);

    internal long Bytes =>
        (sizeof(int) * ((long)SlotExpert.Length + SlotReplicaRank.Length + SlotPosition.Length + Counts.Length))
        + (sizeof(ulong) * ((long)Keys.Length + Tree.Length));

    internal void EnsureCapacity(int slots, int items, int packs)
    {
        SlotExpert = ReferenceWorkspace.Grow(SlotExpert, slots);
        SlotReplicaRank = ReferenceWorkspace.Grow(SlotReplicaRank, slots);
        SlotPosition = ReferenceWorkspace.Grow(SlotPosition, slots);
        Keys = ReferenceWorkspace.Grow(Keys, items);
        Tree = ReferenceWorkspace.Grow(Tree, packs == 0 ? 0 : TournamentTree.Length(packs));
        Counts = ReferenceWorkspace.Grow(Counts, packs);
    }
}
