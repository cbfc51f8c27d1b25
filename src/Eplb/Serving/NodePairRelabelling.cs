using System.Numerics;
using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// One layer's relabelling under the hierarchical policy for clusters of up to 64 GPUs with up to 16 per node (both
/// hierarchical DeepSeek-V3 configurations): nodes move whole, GPUs within them. Each fresh node's overlap with each old node it shares experts
/// with is a small dense matrix, built straight from each expert's holders (bits of a word, added to a row a node at a
/// time by <see cref="HeldCounts"/>) and solved by <see cref="SmallAssignment"/>; the node assignment then picks the pairs.
/// </summary>
/// <remarks>
/// The same problem <see cref="GpuRelabelling"/> solves from a list of edges, and the same optimum: the best node
/// assignment over each node pair's best GPU assignment. Only pairs that share an expert are solved (a fresh node's
/// groups sit on one or two old nodes), and pairs that share nothing keep the GPUs' order.
/// </remarks>
internal sealed class NodePairRelabelling
{
    /// <summary>The most GPUs per node this path takes: a row of GPUs per lane group of <see cref="SmallAssignment"/>.</summary>
    public const int MaxGpusPerNode = SmallAssignment.MaxSize;

    /// <summary>The most GPUs this path takes: an expert's holders are the bits of one <see cref="ulong"/>.</summary>
    public const int MaxGpus = 64;

    private const int Width = SmallAssignment.MaxSize;

    private readonly ExpertMarks _distinct = new();
    private ulong[] _holders = [];  // [expert]: the old GPUs holding it, as bits
    private readonly AssignmentSolver _nodeSolver = new();
    private readonly AlignedBuffer<int> _overlap = new(); // [old node][fresh GPU in node][old GPU in node], rows Width wide
    private int[] _value = [];     // [fresh node][old node]: the pair's best overlap, 0 if none
    private int[] _within = [];    // [fresh node][old node][fresh GPU in node]: the pair's GPU assignment
    private int[] _nodePosition = [];
    private (int Row, int Column, int Weight)[] _nodeEdges = [];

    /// <summary>Whether a cluster of <paramref name="gpus"/> GPUs in <paramref name="nodes"/> nodes fits this path.</summary>
    public static bool Takes(int gpus, int nodes) => gpus <= MaxGpus && gpus / nodes <= MaxGpusPerNode;

    /// <summary>
    /// Writes <c>position[g]</c> for every GPU (all available in <paramref name="next"/>) against the placement
    /// <paramref name="old"/>, with <paramref name="lookup"/> set for this cluster; returns the fresh plan's own copies.
    /// </summary>
    public int Solve(ReadOnlySpan<int> next, ReadOnlySpan<int> old, int gpus, int nodes, int experts, bool permuteNodes, NodeLookup lookup, Span<int> position)
    {
        int perNode = gpus / nodes, perGpu = next.Length / gpus;
        Scratch.Grow(ref _holders, experts);
        Span<ulong> holders = _holders.AsSpan(0, experts);
        holders.Clear();
        for (int gpu = 0, p = 0; gpu < gpus; gpu++)
        {
            for (int end = p + perGpu; p < end; p++)
            {
                if (old[p] >= 0)
                {
                    holders[old[p]] |= 1UL << gpu;
                }
            }
        }

        Span<int> overlaps = _overlap.Get(nodes * Width * Width);
        Scratch.Grow(ref _value, nodes * nodes);
        Scratch.Grow(ref _within, nodes * nodes * perNode);
        Span<int> value = _value.AsSpan(0, nodes * nodes);
        value.Clear();
        _distinct.Reset(experts);
        int freshCopies = 0;
        Span<int> result = stackalloc int[Width];
        ulong nodeBits = (1UL << perNode) - 1;
        ReadOnlySpan<int> nodeOf = lookup.NodeOf;
        for (int a = 0; a < nodes; a++)
        {
            // The overlap of each of node a's fresh GPUs with every old GPU, in the block of the old GPU's node: per
            // distinct expert, its holders in each node it is held on, added to the row as a vector.
            ulong touched = 0;
            for (int i = 0; i < perNode; i++)
            {
                _distinct.NextRound();
                int gpu = (a * perNode) + i;
                foreach (int expert in next.Slice(gpu * perGpu, perGpu))
                {
                    if (!_distinct.Add(expert))
                    {
                        continue;
                    }

                    ulong held = holders[expert];
                    freshCopies += 1 - (int)((held >> gpu) & 1); // a copy, unless the GPU holds it as it stands
                    while (held != 0)
                    {
                        int b = nodeOf[BitOperations.TrailingZeroCount(held)], first = b * perNode;
                        Span<int> block = overlaps.Slice(b * Width * Width, Width * Width);
                        if ((touched & (1UL << b)) == 0)
                        {
                            touched |= 1UL << b;
                            block[..(perNode * Width)].Clear(); // rows past perNode are never read
                        }

                        Span<int> row = block.Slice(i * Width, Width);
                        (Vector512.Create<int>(row) + HeldCounts.Of((uint)((held >> first) & nodeBits))).CopyTo(row);
                        held &= ~(nodeBits << first);
                    }
                }
            }

            for (; touched != 0; touched &= touched - 1)
            {
                int b = BitOperations.TrailingZeroCount(touched);
                value[(a * nodes) + b] = SmallAssignment.Maximize(overlaps.Slice(b * Width * Width, Width * Width), perNode, result);
                result[..perNode].CopyTo(_within.AsSpan(((a * nodes) + b) * perNode, perNode));
            }
        }

        Span<int> nodePosition = NodeAssignment(value, nodes, permuteNodes);
        for (int a = 0; a < nodes; a++)
        {
            int b = nodePosition[a];
            bool shared = value[(a * nodes) + b] > 0;
            ReadOnlySpan<int> within = _within.AsSpan(((a * nodes) + b) * perNode, perNode);
            for (int i = 0; i < perNode; i++)
            {
                position[(a * perNode) + i] = (b * perNode) + (shared ? within[i] : i);
            }
        }

        return freshCopies;
    }

    // Which old node each fresh node becomes: the best assignment over the pairs' values (or none, when nodes stay).
    private Span<int> NodeAssignment(ReadOnlySpan<int> value, int nodes, bool permuteNodes)
    {
        Scratch.Grow(ref _nodePosition, nodes);
        Span<int> nodePosition = _nodePosition.AsSpan(0, nodes);
        if (!permuteNodes)
        {
            for (int a = 0; a < nodes; a++)
            {
                nodePosition[a] = a;
            }

            return nodePosition;
        }

        if (IsOneToOne(value, nodes, nodePosition))
        {
            return nodePosition; // each fresh node shares experts with one old node, each with another: nothing to choose
        }

        if (nodes <= SmallAssignment.MaxSize)
        {
            Span<int> padded = stackalloc int[Width * Width];
            padded.Clear();
            for (int a = 0; a < nodes; a++)
            {
                value.Slice(a * nodes, nodes).CopyTo(padded.Slice(a * Width));
            }

            SmallAssignment.Maximize(padded, nodes, nodePosition);
            return nodePosition;
        }

        int count = 0;
        Scratch.Grow(ref _nodeEdges, nodes * nodes);
        for (int a = 0; a < nodes; a++)
        {
            for (int b = 0; b < nodes; b++)
            {
                if (value[(a * nodes) + b] > 0)
                {
                    _nodeEdges[count++] = (a, b, value[(a * nodes) + b]);
                }
            }
        }

        _nodeSolver.Maximize(nodes, _nodeEdges.AsSpan(0, count), nodePosition);
        return nodePosition;
    }

    // Whether every fresh node has exactly one old node with a positive value, all different; if so, writes them.
    private static bool IsOneToOne(ReadOnlySpan<int> value, int nodes, Span<int> nodePosition)
    {
        ulong taken = 0;
        for (int a = 0; a < nodes; a++)
        {
            ReadOnlySpan<int> row = value.Slice(a * nodes, nodes);
            int b = row.IndexOfAnyExcept(0);
            if (b < 0 || row.Slice(b + 1).IndexOfAnyExcept(0) >= 0 || (taken & (1UL << b)) != 0)
            {
                return false;
            }

            taken |= 1UL << b;
            nodePosition[a] = b;
        }

        return true;
    }
}
