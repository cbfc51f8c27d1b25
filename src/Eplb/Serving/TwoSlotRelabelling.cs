namespace Eplb;

/// <summary>
/// The relabelling of GPUs with two slots each over the whole cluster (DeepSeek's EP144 decode): a maximum-weight
/// assignment whose weights are 0, 1 or 2, found as identical pairs first and then a maximum matching.
/// </summary>
/// <remarks>
/// <para>
/// A new GPU and an old one that hold the same two experts share both: such a pair belongs to some best relabelling.
/// (If a best one pairs new <c>i</c> with old <c>j'</c> and new <c>i'</c> with old <c>j</c>, where <c>i</c> and
/// <c>j</c> hold the same set <c>S</c>, swapping partners loses nothing: <c>|S ∩ A| + |S ∩ B| ≤ |S| + |A ∩ B|</c>.)
/// So identical pairs are taken greedily — within a set, any maximal pairing is maximum — and every other pair shares
/// one expert at most: what is left is a maximum-cardinality matching of "shares an expert", found by augmenting
/// paths from a greedy start. Exact, and far lighter than the weighted search.
/// </para>
/// <para>
/// GPUs in index order, holders in slot order, neighbours in a fixed order: the result is deterministic.
/// </para>
/// </remarks>
internal sealed class TwoSlotRelabelling
{
    private int[] _firstSlot = [];   // per expert: the first old slot holding it, or -1
    private int[] _nextSlot = [];    // per old slot: the next old slot holding the same expert, or -1
    private int[] _newOf = [];       // per old GPU: the new GPU paired with it, or -1
    private int[] _oldOf = [];       // per new GPU: the old GPU paired with it, or -1
    private int[] _visited = [];     // per new GPU: the search that last visited it
    private int[] _stack = [];
    private int[] _reached = [];
    private long[] _neighbour = [];
    private int _search;

    // The mark of a new GPU no search may enter: one of an identical pair, or one a failed search reached.
    private const int Fixed = -1;

    /// <summary>Whether this solver takes the layer: two slots per GPU, one node, every GPU available.</summary>
    public static bool Takes(int perGpu, int nodes, int available, int gpus) => perGpu == 2 && nodes == 1 && available == gpus;

    /// <summary>Writes <c>position[g]</c>, the old GPU new GPU <c>g</c> becomes; returns the copies of the fresh plan as it stands.</summary>
    public int Solve(ReadOnlySpan<int> next, ReadOnlySpan<int> old, int experts, Span<int> position)
    {
        int gpus = position.Length;
        Prepare(old, experts, gpus);
        Span<int> newOf = _newOf.AsSpan(0, gpus), oldOf = _oldOf.AsSpan(0, gpus);

        // Identical pairs: a new GPU {a, b} and an old GPU holding b beside a.
        int freshCopies = 0;
        for (int g = 0; g < gpus; g++)
        {
            int a = next[2 * g], b = next[(2 * g) + 1];
            freshCopies += (Holds(old, g, a) ? 0 : 1) + (b == a || Holds(old, g, b) ? 0 : 1);
            if (a == b)
            {
                continue;
            }

            for (int s = _firstSlot[a]; s >= 0; s = _nextSlot[s])
            {
                int h = s >> 1;
                if (newOf[h] < 0 && old[s ^ 1] == b)
                {
                    (newOf[h], oldOf[g]) = (g, h);
                    _visited[g] = Fixed; // an identical pair stays: no augmenting path may pass through it
                    break;
                }
            }
        }

        // Then a maximum matching of the GPUs left over the edges "shares an expert": greedy, then augmenting paths.
        for (int g = 0; g < gpus; g++)
        {
            if (oldOf[g] < 0)
            {
                TakeFreeNeighbour(next, g);
            }
        }

        for (int g = 0; g < gpus; g++)
        {
            if (oldOf[g] < 0)
            {
                Augment(next, g);
            }
        }

        for (int g = 0, free = 0; g < gpus; g++)
        {
            if (oldOf[g] < 0)
            {
                while (newOf[free] >= 0)
                {
                    free++;
                }

                (newOf[free], oldOf[g]) = (g, free);
            }

            position[g] = oldOf[g];
        }

        return freshCopies;
    }

    private static bool Holds(ReadOnlySpan<int> old, int gpu, int expert) => old[2 * gpu] == expert || old[(2 * gpu) + 1] == expert;

    private void Prepare(ReadOnlySpan<int> old, int experts, int gpus)
    {
        Scratch.Grow(ref _firstSlot, experts);
        Scratch.Grow(ref _nextSlot, 2 * gpus);
        Scratch.Grow(ref _newOf, gpus);
        Scratch.Grow(ref _oldOf, gpus);
        Scratch.Grow(ref _visited, gpus);
        Scratch.Grow(ref _stack, gpus);
        Scratch.Grow(ref _reached, gpus);
        Scratch.Grow(ref _neighbour, gpus);
        _firstSlot.AsSpan(0, experts).Fill(-1);
        _newOf.AsSpan(0, gpus).Fill(-1);
        _oldOf.AsSpan(0, gpus).Fill(-1);
        _visited.AsSpan(0, gpus).Clear();
        _search = 0;

        // Holders in slot order: built backwards so that each list runs forwards. A GPU holding one expert twice
        // is listed once.
        for (int s = (2 * gpus) - 1; s >= 0; s--)
        {
            int expert = old[s];
            if (expert < 0 || ((s & 1) == 1 && old[s - 1] == expert))
            {
                continue; // an unavailable slot, or a second replica of the GPU's expert
            }

            _nextSlot[s] = _firstSlot[expert];
            _firstSlot[expert] = s;
        }
    }

    private void TakeFreeNeighbour(ReadOnlySpan<int> next, int g)
    {
        int h = FreeNeighbour(next, g);
        if (h >= 0)
        {
            (_newOf[h], _oldOf[g]) = (g, h);
        }
    }

    // The first old GPU sharing an expert with new GPU `g` that nothing is paired with yet, or -1.
    private int FreeNeighbour(ReadOnlySpan<int> next, int g)
    {
        for (int k = 0; k < 2; k++)
        {
            for (int s = _firstSlot[next[(2 * g) + k]]; s >= 0; s = _nextSlot[s])
            {
                if (_newOf[s >> 1] < 0)
                {
                    return s >> 1;
                }
            }
        }

        return -1;
    }

    // Depth-first search for an augmenting path from new GPU `root`: new GPUs on a stack, each with the position of the
    // next neighbour to try (expert k, holder slot s). Each GPU entered first looks for a free neighbour among all of
    // its own (a look-ahead, which keeps paths short); a free old GPU ends the path, which is flipped back to the root.
    // A search that fails marks what it reached as dead: from there no alternating path leads to a free GPU, and no
    // later augmentation changes that (it could not pass through), so each dead region is explored once.
    private void Augment(ReadOnlySpan<int> next, int root)
    {
        int search = ++_search, depth = 0, reached = 0;
        _visited[root] = search;
        _reached[reached++] = root;
        _stack[0] = root;
        _neighbour[0] = Encode(0, _firstSlot[next[2 * root]]);
        int free = FreeNeighbour(next, root);
        while (free < 0 && depth >= 0)
        {
            int g = _stack[depth];
            if (!NextNeighbour(next, g, ref _neighbour[depth], out int h))
            {
                depth--;
                continue;
            }

            int owner = _newOf[h];
            if (_visited[owner] != search && _visited[owner] != Fixed)
            {
                _visited[owner] = search;
                _reached[reached++] = owner;
                _stack[++depth] = owner;
                _neighbour[depth] = Encode(0, _firstSlot[next[2 * owner]]);
                free = FreeNeighbour(next, owner);
            }
        }

        if (free >= 0)
        {
            // Flip the path: each new GPU on the stack takes the old GPU its search step reached, the last the free one.
            for (int d = depth, h = free; d >= 0; d--)
            {
                int gpu = _stack[d], previous = _oldOf[gpu];
                (_newOf[h], _oldOf[gpu]) = (gpu, h);
                h = previous;
            }

            return;
        }

        foreach (int gpu in _reached.AsSpan(0, reached))
        {
            _visited[gpu] = Fixed;
        }
    }

    // A search step's place among a new GPU's neighbours: which of its two experts, and the holder slot next in line.
    private static long Encode(int expert, int slot) => ((long)expert << 32) | (uint)slot;

    private bool NextNeighbour(ReadOnlySpan<int> next, int g, ref long state, out int h)
    {
        int k = (int)(state >> 32), s = (int)state;
        while (true)
        {
            if (s >= 0)
            {
                h = s >> 1;
                state = Encode(k, _nextSlot[s]);
                if (_oldOf[g] != h)
                {
                    return true;
                }

                s = _nextSlot[s];
                continue;
            }

            if (k == 1 || next[(2 * g) + 1] == next[2 * g])
            {
                h = -1;
                return false;
            }

            k = 1;
            s = _firstSlot[next[(2 * g) + 1]];
        }
    }
}
