namespace Eplb;

/// <summary>
/// Which expert groups share a node: the assignment, <c>groups / nodes</c> whole groups per node, that minimises the
/// busiest node's achievable GPU load — its bound <c>max(node total / GPUs per node, m*)</c>, <c>m*</c> the least
/// largest share of the node's experts in its slots (docs/load-model.md, <c>LB_hier</c>).
/// </summary>
/// <remarks>
/// Exhaustive while the assignments are few (<see cref="MaxExhaustive"/>; 8 groups on 4 nodes are 105, on 2 nodes 35):
/// the best is then exact, and its bound is <c>LB_hier</c>. Beyond, a local search from the heaviest-group-first
/// assignment swaps groups between the busiest node and the others while that lowers the sorted node bounds. Ties
/// keep the first assignment found: the lowest group always on the first node, and so on, in a fixed order.
/// </remarks>
internal sealed class GroupAssignment
{
    /// <summary>The most assignments enumerated; beyond, local search.</summary>
    public const long MaxExhaustive = 20_000;

    /// <summary>The most work (loads merged into node bounds) the local search does per layer: tens of milliseconds.</summary>
    private const long MaxSearchWork = 10_000_000;

    /// <summary>Groups up to which each node's bound is remembered per subset (a bitmask of groups).</summary>
    private const int MaxRemembered = 16;

    private double[] _remembered = [];
    private double[] _weights = [];
    private double[] _groupTotals = [];
    private double[] _groupHeaviest = [];
    private int _heaviest;
    private int[] _counts = [];
    private int[] _heap = [];
    private int[] _current = [];
    private double[] _bounds = [];
    private double[] _bestBounds = [];
    private double[] _sorted = [];
    private double[] _bestSorted = [];

    private int _groups;
    private int _nodes;
    private int _groupSize;
    private int _gpusPerNode;
    private int _slotsPerNode;

    /// <summary>Each node's groups, <c>groups / nodes</c> per node, ascending within a node.</summary>
    public int[] NodeGroups { get; private set; } = [];

    public long Bytes => (sizeof(double) * ((long)_remembered.Length + _weights.Length + _groupTotals.Length + _groupHeaviest.Length + _bounds.Length + _bestBounds.Length + _sorted.Length + _bestSorted.Length))
        + (sizeof(int) * ((long)_counts.Length + _heap.Length + _current.Length + NodeGroups.Length));

    /// <summary>The number of ways to cut <paramref name="groups"/> groups into <paramref name="nodes"/> unlabelled nodes of equal size, capped just above <see cref="MaxExhaustive"/>.</summary>
    public static long AssignmentCount(int groups, int nodes)
    {
        // Choose the first node's other members among the rest, then recurse: Π C(remaining - 1, size - 1).
        int size = groups / nodes;
        double count = 1;
        for (int remaining = groups; remaining > 0; remaining -= size)
        {
            count *= Choose(remaining - 1, size - 1);
            if (count > MaxExhaustive)
            {
                return MaxExhaustive + 1;
            }
        }

        return (long)count;
    }

    /// <summary>Finds the assignment for one layer and returns its bound (the busiest node's).</summary>
    public double Assign(ReadOnlySpan<float> weight, in RebalanceShape shape)
    {
        _groups = shape.Groups;
        _nodes = shape.Nodes;
        _groupSize = shape.GroupSize;
        _gpusPerNode = shape.GpusPerNode;
        _slotsPerNode = shape.SlotsPerNode;
        Grow(shape.ExpertsPerNode);
        Summarise(weight);
        if (_groups <= MaxRemembered && _nodes > 1 && _nodes < _groups)
        {
            _remembered.AsSpan(0, 1 << _groups).Fill(-1);
        }

        if (_nodes == 1 || _nodes == _groups)
        {
            // One way only (nodes are unlabelled): every group on the one node, or each on its own.
            for (int group = 0; group < _groups; group++)
            {
                NodeGroups[group] = group;
            }

            int perNode = _groups / _nodes;
            double max = 0;
            for (int node = 0; node < _nodes; node++)
            {
                max = Math.Max(max, NodeBound(weight, NodeGroups.AsSpan(node * perNode, perNode)));
            }

            _bestSorted[0] = max;
        }
        else if (AssignmentCount(_groups, _nodes) <= MaxExhaustive)
        {
            _bestSorted[0] = double.PositiveInfinity;
            Enumerate(weight, used: 0, node: 0);
        }
        else
        {
            SearchLocally(weight);
        }

        return _bestSorted[0];
    }

    /// <summary>The bound of a node holding <paramref name="groups"/> (their ids), from the groups' summaries.</summary>
    /// <remarks>
    /// Only a node's <c>extra + 1</c> heaviest experts (<c>extra</c> = its slots beyond one per expert) can take a
    /// further replica — each of <c>extra + 1</c> heavier ones would have had one first — and each group's
    /// <c>extra + 1</c> heaviest include the node's that it holds; an expert outside them never carries the largest
    /// share either, since one of its group's heavier ones keeps a single replica. So <c>m*</c> over the union of the
    /// groups' heaviest, with the node's extra slots, is the node's <c>m*</c>.
    /// </remarks>
    public double NodeBound(ReadOnlySpan<float> weight, ReadOnlySpan<int> groups)
    {
        int at = 0;
        double total = 0;
        foreach (int group in groups)
        {
            total += _groupTotals[group];
            _groupHeaviest.AsSpan(group * _heaviest, _heaviest).CopyTo(_weights.AsSpan(at));
            at += _heaviest;
        }

        int extra = _slotsPerNode - (groups.Length * _groupSize);
        double largestShare = ReplicaCounts.LeastLargestShare(_weights.AsSpan(0, at), at + extra, _counts, _heap);
        return Math.Max(total / _gpusPerNode, largestShare);
    }

    // Each group's total, and its `extra + 1` heaviest loads (all of them when the group is smaller).
    private void Summarise(ReadOnlySpan<float> weight)
    {
        int extra = _slotsPerNode - (_groups / _nodes * _groupSize);
        _heaviest = (int)Math.Min(_groupSize, extra + 1L);
        Scratch.Grow(ref _groupTotals, _groups);
        Scratch.Grow(ref _groupHeaviest, _groups * _heaviest);
        Span<double> sorted = _weights.AsSpan(0, _groupSize);
        for (int group = 0; group < _groups; group++)
        {
            ReadOnlySpan<float> loads = weight.Slice(group * _groupSize, _groupSize);
            double total = 0;
            for (int e = 0; e < loads.Length; e++)
            {
                sorted[e] = loads[e];
                total += loads[e];
            }

            sorted.Sort(static (a, b) => b.CompareTo(a));
            _groupTotals[group] = total;
            sorted.Slice(0, _heaviest).CopyTo(_groupHeaviest.AsSpan(group * _heaviest));
        }
    }

    private void Grow(int expertsPerNode)
    {
        Scratch.Grow(ref _weights, expertsPerNode);
        Scratch.Grow(ref _counts, expertsPerNode);
        Scratch.Grow(ref _heap, expertsPerNode);
        Scratch.Grow(ref _current, _groups);
        if (NodeGroups.Length < _groups)
        {
            NodeGroups = new int[_groups];
        }

        Scratch.Grow(ref _bounds, _nodes);
        Scratch.Grow(ref _bestBounds, _nodes);
        Scratch.Grow(ref _sorted, _nodes);
        Scratch.Grow(ref _bestSorted, _nodes);
        if (_groups <= MaxRemembered && _nodes > 1 && _nodes < _groups)
        {
            Scratch.Grow(ref _remembered, 1 << _groups);
        }
    }

    // Node `node` takes the lowest unused group and every choice of the others it needs; the last node completes an
    // assignment, which is kept if its sorted node bounds are lexicographically smaller than the best so far.
    private void Enumerate(ReadOnlySpan<float> weight, int used, int node)
    {
        if (node == _nodes)
        {
            Consider();
            return;
        }

        int first = 0;
        while ((used & (1 << first)) != 0)
        {
            first++;
        }

        _current[node * (_groups / _nodes)] = first;
        Choose(weight, used | (1 << first), node, filled: 1, from: first + 1);
    }

    private void Choose(ReadOnlySpan<float> weight, int used, int node, int filled, int from)
    {
        int perNode = _groups / _nodes, start = node * perNode;
        if (filled == perNode)
        {
            _bounds[node] = RememberedBound(weight, _current.AsSpan(start, perNode));

            // Prune: a node already above the best assignment's busiest cannot lead to a better one.
            if (_bounds[node] <= _bestSorted[0])
            {
                Enumerate(weight, used, node + 1);
            }

            return;
        }

        for (int group = from; group < _groups; group++)
        {
            if ((used & (1 << group)) == 0)
            {
                _current[start + filled] = group;
                Choose(weight, used | (1 << group), node, filled + 1, group + 1);
            }
        }
    }

    private double RememberedBound(ReadOnlySpan<float> weight, ReadOnlySpan<int> groups)
    {
        if (_groups > MaxRemembered)
        {
            return NodeBound(weight, groups);
        }

        int mask = 0;
        foreach (int group in groups)
        {
            mask |= 1 << group;
        }

        if (_remembered[mask] < 0)
        {
            _remembered[mask] = NodeBound(weight, groups);
        }

        return _remembered[mask];
    }

    private void Consider()
    {
        Span<double> sorted = _sorted.AsSpan(0, _nodes);
        _bounds.AsSpan(0, _nodes).CopyTo(sorted);
        sorted.Sort(static (a, b) => b.CompareTo(a));
        if (sorted.SequenceCompareTo(_bestSorted.AsSpan(0, _nodes)) < 0)
        {
            sorted.CopyTo(_bestSorted);
            _current.AsSpan(0, _groups).CopyTo(NodeGroups);
        }
    }

    // Heaviest group first onto the node with the least total that has room (a heap of nodes), then swaps off the
    // busiest node while they lower it, within a fixed amount of work (MaxSearchWork) so that no size can run long.
    private void SearchLocally(ReadOnlySpan<float> weight)
    {
        int perNode = _groups / _nodes;
        var groupTotals = new double[_groups];
        var order = new int[_groups];
        var nodeTotals = new double[_nodes];
        var filled = new int[_nodes];
        for (int group = 0; group < _groups; group++)
        {
            order[group] = group;
            for (int e = group * _groupSize; e < (group + 1) * _groupSize; e++)
            {
                groupTotals[group] += weight[e];
            }
        }

        Array.Sort(order, (a, b) => groupTotals[b] != groupTotals[a] ? groupTotals[b].CompareTo(groupTotals[a]) : a.CompareTo(b));
        var lightest = new PriorityQueue<int, (double Total, int Node)>(_nodes);
        for (int node = 0; node < _nodes; node++)
        {
            lightest.Enqueue(node, (0, node));
        }

        foreach (int group in order)
        {
            int node = lightest.Dequeue();
            NodeGroups[(node * perNode) + filled[node]++] = group;
            nodeTotals[node] += groupTotals[group];
            if (filled[node] < perNode)
            {
                lightest.Enqueue(node, (nodeTotals[node], node));
            }
        }

        for (int node = 0; node < _nodes; node++)
        {
            _bounds[node] = NodeBound(weight, NodeGroups.AsSpan(node * perNode, perNode));
        }

        // A node's bound merges its groups' heaviest loads and runs the greedy over its extra slots.
        long work = 0, boundCost = ((long)perNode * _heaviest) + _slotsPerNode - ((long)perNode * _groupSize);
        for (int round = 0; round < 4 * _groups && work < MaxSearchWork; round++)
        {
            int busiest = 0;
            for (int node = 1; node < _nodes; node++)
            {
                busiest = _bounds[node] > _bounds[busiest] ? node : busiest;
            }

            double bestPair = _bounds[busiest];
            int bestI = -1, bestJ = -1;
            double bestOther = 0, bestBusiest = 0;
            for (int i = busiest * perNode; i < (busiest + 1) * perNode && work < MaxSearchWork; i++)
            {
                for (int j = 0; j < _groups && work < MaxSearchWork; j++)
                {
                    int other = j / perNode;
                    if (other == busiest)
                    {
                        continue;
                    }

                    work += 2 * boundCost;
                    (NodeGroups[i], NodeGroups[j]) = (NodeGroups[j], NodeGroups[i]);
                    double a = NodeBound(weight, NodeGroups.AsSpan(busiest * perNode, perNode));
                    double b = NodeBound(weight, NodeGroups.AsSpan(other * perNode, perNode));
                    (NodeGroups[i], NodeGroups[j]) = (NodeGroups[j], NodeGroups[i]);
                    if (Math.Max(a, b) < bestPair)
                    {
                        bestPair = Math.Max(a, b);
                        (bestI, bestJ, bestBusiest, bestOther) = (i, j, a, b);
                    }
                }
            }

            if (bestI < 0)
            {
                break;
            }

            (NodeGroups[bestI], NodeGroups[bestJ]) = (NodeGroups[bestJ], NodeGroups[bestI]);
            _bounds[busiest] = bestBusiest;
            _bounds[bestJ / perNode] = bestOther;
        }

        double max = 0;
        for (int node = 0; node < _nodes; node++)
        {
            max = Math.Max(max, _bounds[node]);
        }

        _bestSorted[0] = max;
    }

    private static double Choose(int n, int k)
    {
        double result = 1;
        for (int i = 1; i <= k; i++)
        {
            result = result * (n - k + i) / i;
        }

        return result;
    }
}
