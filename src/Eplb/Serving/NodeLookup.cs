namespace Eplb;

/// <summary>
/// Each GPU's node and its index within the node, looked up: relabelling asks for both once per holder of every
/// expert, and an integer division there costs more than the rest of the step. Built once per cluster shape.
/// </summary>
internal sealed class NodeLookup
{
    private int[] _nodeOf = [];
    private int[] _localOf = [];
    private int _gpus = -1, _perNode = -1;

    /// <summary>The node of each GPU, for the shape last passed to <see cref="For"/>.</summary>
    public ReadOnlySpan<int> NodeOf => _nodeOf.AsSpan(0, _gpus);

    /// <summary>Each GPU's index within its node.</summary>
    public ReadOnlySpan<int> LocalOf => _localOf.AsSpan(0, _gpus);

    /// <summary>Makes the tables those of <paramref name="gpus"/> GPUs, <paramref name="perNode"/> per node.</summary>
    public NodeLookup For(int gpus, int perNode)
    {
        if (gpus != _gpus || perNode != _perNode)
        {
            Scratch.Grow(ref _nodeOf, gpus);
            Scratch.Grow(ref _localOf, gpus);
            for (int g = 0; g < gpus; g++)
            {
                (_nodeOf[g], _localOf[g]) = Math.DivRem(g, perNode);
            }

            (_gpus, _perNode) = (gpus, perNode);
        }

        return this;
    }
}
