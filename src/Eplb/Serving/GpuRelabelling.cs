namespace Eplb;

/// <summary>
/// One layer's relabelling of GPUs: which GPU each of a fresh plan's GPUs becomes, so that the most of its distinct
/// experts are already there. Buffers are kept between layers.
/// </summary>
/// <remarks>
/// The weight of pairing new GPU <c>g</c> with old GPU <c>h</c> is the number of distinct experts of <c>g</c> that
/// <c>h</c> holds now; the copies saved by a relabelling are the total weight of its pairs, so the best relabelling is
/// a maximum-weight assignment. Only GPUs that share an expert are joined by an edge, a few per GPU, so the solver
/// works on a sparse graph. Under the hierarchical policy a group's experts must stay on one node: nodes move whole,
/// so the assignment becomes a node assignment over the best GPU assignment within each pair of nodes — exact,
/// because a node pair's best GPU assignment does not depend on the other pairs.
/// </remarks>
internal sealed class GpuRelabelling
{
    private readonly AssignmentSolver _solver = new();
    private readonly NodePairRelabelling _nodePairs = new();
    private readonly NodeLookup _lookup = new();
    private readonly ExpertHolders _holders = new();
    private readonly TwoSlotRelabelling _twoSlots = new();

    /// <summary>
    /// The bytes of the scratch that grows with the edges (GPUs sharing experts) rather than with the GPUs, experts or
    /// slots, so that a caller keeping this object can bound what it keeps.
    /// </summary>
    public long EdgeScratchBytes =>
        ((long)(_edges.Length + _byPair.Length + _nodeEdges.Length) * 3 * sizeof(int)) + ((long)_within.Length * sizeof(int)) + _solver.EdgeScratchBytes;
    private readonly ExpertMarks _distinct = new();
    private (int Row, int Column, int Weight)[] _edges = [];
    private (int Row, int Column, int Weight)[] _byPair = [];
    private (int Row, int Column, int Weight)[] _nodeEdges = [];
    private int[] _pairEnd = [];
    private int[] _weight = [];
    private int[] _touched = [];
    private int[] _within = [];
    private int[] _nodeOf = [];
    private int[] _gpuOf = [];
    private int[] _indexOf = [];
    private int[] _compactPosition = [];
    private int[] _firstHolder = [];  // one slot per GPU: each expert's first holder still unpaired, or -1
    private int[] _nextHolder = [];   // one slot per GPU: the next holder of the same expert, ascending
    private bool[] _taken = [];       // one slot per GPU: whether a GPU is taken

    /// <summary>
    /// Writes <c>position[g]</c>, the GPU that the fresh plan's GPU <c>g</c> becomes. GPUs whose slots are all -1
    /// (unavailable) keep their number; the others are permuted among themselves — within and across whole nodes
    /// when <paramref name="nodes"/> &gt; 1 and every GPU is available, freely otherwise.
    /// </summary>
    /// <returns>
    /// The copies the fresh plan takes as it stands — each GPU's distinct experts less those it holds — which the
    /// edges tell for free.
    /// </returns>
    public int Solve(ReadOnlySpan<int> next, ReadOnlySpan<int> old, int gpus, int nodes, int experts, bool permuteNodes, Span<int> position)
    {
        int perGpu = next.Length / gpus;
        int available = IndexAvailableGpus(next, gpus, perGpu);
        if (nodes > 1 && available == gpus && NodePairRelabelling.Takes(gpus, nodes))
        {
            return _nodePairs.Solve(next, old, gpus, nodes, experts, permuteNodes, _lookup.For(gpus, gpus / nodes), position);
        }

        if (perGpu == 1 && nodes == 1)
        {
            return SolveOneSlotPerGpu(next, old, experts, position);
        }

        if (TwoSlotRelabelling.Takes(perGpu, nodes, available, gpus))
        {
            return _twoSlots.Solve(next, old, experts, position);
        }

        ExpertHolders inForce = _holders;
        inForce.Build(old, perGpu, experts);

        int edgeCount = BuildEdges(next, inForce, available, perGpu, experts, out int freshCopies);
        Scratch.Grow(ref _compactPosition, available);
        Span<int> compactPosition = _compactPosition.AsSpan(0, available);
        if (nodes > 1 && available == gpus)
        {
            SolveByNodes(edgeCount, gpus, nodes, permuteNodes, compactPosition);
        }
        else
        {
            _solver.Maximize(available, _edges.AsSpan(0, edgeCount), compactPosition);
        }

        for (int g = 0; g < gpus; g++)
        {
            position[g] = g;
        }

        for (int i = 0; i < available; i++)
        {
            position[_gpuOf[i]] = _gpuOf[compactPosition[i]];
        }

        return freshCopies;
    }

    // One slot per GPU (DeepSeek's EP320 decode): a new GPU can keep only its one expert, so the graph is one complete
    // bipartite block per expert — its new GPUs against its holders — and pairing each new GPU with the first holder
    // of its expert still unpaired is a maximum matching. Unpaired GPUs then take the free GPUs in order.
    private int SolveOneSlotPerGpu(ReadOnlySpan<int> next, ReadOnlySpan<int> old, int experts, Span<int> position)
    {
        int gpus = position.Length;
        Scratch.Grow(ref _firstHolder, experts);
        Scratch.Grow(ref _nextHolder, gpus);
        Scratch.Grow(ref _taken, gpus);
        Span<int> firstHolder = _firstHolder.AsSpan(0, experts), nextHolder = _nextHolder.AsSpan(0, gpus);
        Span<bool> taken = _taken.AsSpan(0, gpus);
        firstHolder.Fill(-1);
        taken.Clear();
        for (int h = gpus - 1; h >= 0; h--)
        {
            int expert = old[h];
            if (expert >= 0 && next[h] >= 0) // a holder that is unavailable now takes nothing
            {
                nextHolder[h] = firstHolder[expert];
                firstHolder[expert] = h;
            }
        }

        int freshCopies = 0;
        for (int gpu = 0; gpu < gpus; gpu++)
        {
            int expert = next[gpu];
            if (expert < 0)
            {
                position[gpu] = gpu; // unavailable: keeps its number
                taken[gpu] = true;
                continue;
            }

            freshCopies += old[gpu] == expert ? 0 : 1;
            int holder = firstHolder[expert];
            position[gpu] = holder;
            if (holder >= 0)
            {
                firstHolder[expert] = nextHolder[holder];
                taken[holder] = true;
            }
        }

        for (int gpu = 0, free = 0; gpu < gpus; gpu++)
        {
            if (position[gpu] < 0)
            {
                while (taken[free])
                {
                    free++;
                }

                taken[free] = true;
                position[gpu] = free;
            }
        }

        return freshCopies;
    }

    // _gpuOf[i]: the i-th available GPU; _indexOf[g]: its index, or -1.
    private int IndexAvailableGpus(ReadOnlySpan<int> next, int gpus, int perGpu)
    {
        Scratch.Grow(ref _gpuOf, gpus);
        Scratch.Grow(ref _indexOf, gpus);
        int available = 0;
        for (int g = 0; g < gpus; g++)
        {
            bool up = next[g * perGpu] >= 0;
            _indexOf[g] = up ? available : -1;
            if (up)
            {
                _gpuOf[available++] = g;
            }
        }

        return available;
    }

    // For each available new GPU (row), each available old GPU holding some of its distinct experts (column), with
    // how many it holds: grouped by row.
    private int BuildEdges(ReadOnlySpan<int> next, ExpertHolders inForce, int available, int perGpu, int experts, out int freshCopies)
    {
        freshCopies = 0;
        Scratch.Grow(ref _weight, _indexOf.Length);
        Scratch.Grow(ref _touched, _indexOf.Length);
        _distinct.Reset(experts);
        int count = 0;
        for (int row = 0; row < available; row++)
        {
            _distinct.NextRound();
            int touched = 0;
            foreach (int expert in next.Slice(_gpuOf[row] * perGpu, perGpu))
            {
                if (!_distinct.Add(expert))
                {
                    continue;
                }

                freshCopies++;
                foreach (int holder in inForce.Of(expert))
                {
                    int column = _indexOf[holder];
                    if (column >= 0 && _weight[column]++ == 0)
                    {
                        _touched[touched++] = column;
                    }
                }
            }

            freshCopies -= _weight[row]; // what the GPU holds already: the same GPU has the same index as row and column
            if (_edges.Length < count + touched)
            {
                Array.Resize(ref _edges, Math.Max(count + touched, 2 * _edges.Length));
            }

            for (int i = 0; i < touched; i++)
            {
                int column = _touched[i];
                _edges[count++] = (row, column, _weight[column]);
                _weight[column] = 0;
            }
        }

        return count;
    }

    private void SolveByNodes(int edgeCount, int gpus, int nodes, bool permuteNodes, Span<int> position)
    {
        int perNode = gpus / nodes;
        Scratch.Grow(ref _byPair, edgeCount);
        Scratch.Grow(ref _pairEnd, nodes + 1);
        Scratch.Grow(ref _nodeOf, nodes);
        Scratch.Grow(ref _nodeEdges, edgeCount);
        ReadOnlySpan<(int Row, int Column, int Weight)> edges = _edges.AsSpan(0, edgeCount);

        // Each new node's edges (rows are grouped by node already) bucketed by old node, rows kept in order, in the
        // GPUs' indices within their nodes: each bucket is one node pair, whose best GPU assignment is its value.
        // Every pair's assignment is kept, for the node assignment to pick from.
        ReadOnlySpan<int> nodeOfGpu = _lookup.For(gpus, perNode).NodeOf, localOfGpu = _lookup.LocalOf;

        int nodeEdgeCount = 0;
        for (int start = 0; start < edgeCount;)
        {
            int a = nodeOfGpu[edges[start].Row], end = start, rowsEnd = (a + 1) * perNode;
            while (end < edgeCount && edges[end].Row < rowsEnd)
            {
                end++;
            }

            Span<int> bucketEnd = _pairEnd.AsSpan(0, nodes + 1);
            bucketEnd.Clear();
            foreach ((int _, int column, int _) in edges[start..end])
            {
                bucketEnd[nodeOfGpu[column] + 1]++;
            }

            for (int b = 0; b < nodes; b++)
            {
                bucketEnd[b + 1] += bucketEnd[b];
            }

            Span<(int Row, int Column, int Weight)> byPair = _byPair.AsSpan(0, end - start);
            foreach ((int row, int column, int weight) in edges[start..end])
            {
                byPair[bucketEnd[nodeOfGpu[column]]++] = (localOfGpu[row], localOfGpu[column], weight);
            }

            for (int b = 0, run = 0; b < nodes; run = bucketEnd[b++])
            {
                if (bucketEnd[b] > run)
                {
                    if (_within.Length < (nodeEdgeCount + 1) * perNode)
                    {
                        Array.Resize(ref _within, Math.Max((nodeEdgeCount + 1) * perNode, 2 * _within.Length));
                    }

                    int value = SolvePair(byPair[run..bucketEnd[b]], perNode, _within.AsSpan(nodeEdgeCount * perNode, perNode));
                    if (value > 0)
                    {
                        _nodeEdges[nodeEdgeCount++] = (a, b, value);
                    }
                }
            }

            start = end;
        }

        Span<int> nodeOf = _nodeOf.AsSpan(0, nodes);
        if (permuteNodes)
        {
            _solver.Maximize(nodes, _nodeEdges.AsSpan(0, nodeEdgeCount), nodeOf);
        }
        else
        {
            for (int a = 0; a < nodes; a++)
            {
                nodeOf[a] = a;
            }
        }

        // Each new node's GPUs go to the node chosen, as that pair's assignment places them; pairs that share
        // nothing keep the GPUs' order.
        for (int a = 0, k = 0; a < nodes; a++)
        {
            int b = nodeOf[a];
            while (k < nodeEdgeCount && _nodeEdges[k].Row == a && _nodeEdges[k].Column < b)
            {
                k++;
            }

            bool shared = k < nodeEdgeCount && _nodeEdges[k].Row == a && _nodeEdges[k].Column == b;
            for (int i = 0; i < perNode; i++)
            {
                position[(a * perNode) + i] = (b * perNode) + (shared ? _within[(k * perNode) + i] : i);
            }

            while (k < nodeEdgeCount && _nodeEdges[k].Row == a)
            {
                k++;
            }
        }
    }

    // The best assignment of one node pair's GPUs, from its edges (local indices, grouped by row), and its total weight.
    private int SolvePair(ReadOnlySpan<(int Row, int Column, int Weight)> edges, int perNode, Span<int> within)
    {
        _solver.Maximize(perNode, edges, within);
        int value = 0;
        foreach ((int row, int column, int weight) in edges)
        {
            value += within[row] == column ? weight : 0;
        }

        return value;
    }
}
