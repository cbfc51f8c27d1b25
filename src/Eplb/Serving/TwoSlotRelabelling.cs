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
/// one expert at most: what is left is a maximum-cardinality matching of "shares an expert", found by shortest
/// (breadth-first) augmenting paths from a greedy start. Exact, and far lighter than the weighted search.
/// </para>
/// <para>
/// The graph is searched through the experts rather than its edges: an expert with many replicas before and after
/// joins every new GPU holding it to every old one, and that block is walked once per search. An old GPU once paired
/// stays paired (augmenting paths only change its partner), so each expert's first holder still free is a cursor that
/// only moves forward.
/// </para>
/// <para>
/// GPUs in index order, holders in slot order, neighbours in a fixed order: the result is deterministic.
/// </para>
/// </remarks>
internal sealed class TwoSlotRelabelling
{
    private int[] _firstSlot = [];   // per expert: the first old slot holding it, or -1
    private int[] _nextSlot = [];    // per old slot: the next old slot holding the same expert, or -1
    private int[] _freeSlot = [];    // per expert: no holder before this old slot in its list is free, or -1
    private int[] _holders = [];     // per expert: how many old GPUs hold it
    private int[] _expanded = [];    // per expert: the search that last walked its holders, or Dead
    private int[] _newOf = [];       // per old GPU: the new GPU paired with it, or -1
    private int[] _oldOf = [];       // per new GPU: the old GPU paired with it, or -1
    private int[] _visited = [];     // per new GPU: the search that last visited it, or Dead
    private int[] _parent = [];      // per new GPU a search reached: the new GPU it was reached from, -1 for the root
    private int[] _reached = [];     // a search's new GPUs, then its experts (from the end)
    private int _search;

    // The mark of a new GPU or expert from which no alternating path leads to a free old GPU: searches skip it.
    private const int Dead = -1;

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

            (int rare, int other) = _holders[b] < _holders[a] ? (b, a) : (a, b); // the shorter list of holders
            for (int s = _firstSlot[rare]; s >= 0; s = _nextSlot[s])
            {
                int h = s >> 1;
                if (newOf[h] < 0 && old[s ^ 1] == other)
                {
                    (newOf[h], oldOf[g]) = (g, h);
                    _visited[g] = Dead; // an identical pair stays: no augmenting path may pass through it
                    break;
                }
            }
        }

        // Then a maximum matching of the GPUs left over the edges "shares an expert": greedy, then augmenting paths.
        for (int g = 0; g < gpus; g++)
        {
            int h = oldOf[g] < 0 ? FreeNeighbour(next, g) : -1;
            if (h >= 0)
            {
                (newOf[h], oldOf[g]) = (g, h);
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
        Scratch.Grow(ref _freeSlot, experts);
        Scratch.Grow(ref _expanded, experts);
        Scratch.Grow(ref _newOf, gpus);
        Scratch.Grow(ref _oldOf, gpus);
        Scratch.Grow(ref _visited, gpus);
        Scratch.Grow(ref _parent, gpus);
        Scratch.Grow(ref _reached, gpus + experts);
        Scratch.Grow(ref _holders, experts);
        _firstSlot.AsSpan(0, experts).Fill(-1);
        _holders.AsSpan(0, experts).Clear();
        _expanded.AsSpan(0, experts).Clear();
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
            _holders[expert]++;
        }

        _firstSlot.AsSpan(0, experts).CopyTo(_freeSlot);
    }

    // The first old GPU sharing an expert with new GPU `g` that nothing is paired with yet, or -1.
    private int FreeNeighbour(ReadOnlySpan<int> next, int g)
    {
        int h = FreeHolder(next[2 * g]);
        return h >= 0 || next[(2 * g) + 1] == next[2 * g] ? h : FreeHolder(next[(2 * g) + 1]);
    }

    // The first old GPU holding `expert` that nothing is paired with yet, or -1; the cursor skips the paired for good.
    private int FreeHolder(int expert)
    {
        int s = _freeSlot[expert];
        while (s >= 0 && _newOf[s >> 1] >= 0)
        {
            s = _nextSlot[s];
        }

        _freeSlot[expert] = s;
        return s >> 1; // -1 stays -1
    }

    // Breadth-first search for a shortest augmenting path from new GPU `root`: the new GPUs reached, in order, each
    // walking the holders of its experts; an expert's holders are walked once per search (another new GPU holding it
    // reaches the same old GPUs). Each GPU reached first looks for a free neighbour; a free old GPU ends the path,
    // which is flipped back to the root. A search that fails marks the GPUs and experts it reached as dead: from there
    // no alternating path leads to a free GPU, and no later augmentation changes that (it could not pass through), so
    // each dead region is explored once.
    private void Augment(ReadOnlySpan<int> next, int root)
    {
        int search = ++_search, reachedGpus = 0, reachedExperts = 0;
        Span<int> reached = _reached.AsSpan();
        _visited[root] = search;
        _parent[root] = -1;
        reached[reachedGpus++] = root;
        int free = FreeNeighbour(next, root), at = root;
        for (int head = 0; free < 0 && head < reachedGpus; head++)
        {
            int g = reached[head];
            for (int k = 0; k < 2 && free < 0; k++)
            {
                int expert = next[(2 * g) + k];
                if ((k == 1 && expert == next[2 * g]) || _expanded[expert] == search || _expanded[expert] == Dead)
                {
                    continue;
                }

                _expanded[expert] = search;
                reached[reached.Length - 1 - reachedExperts++] = expert;
                for (int s = _firstSlot[expert]; s >= 0; s = _nextSlot[s])
                {
                    int owner = _newOf[s >> 1]; // paired: no GPU reached has a free neighbour
                    if (_visited[owner] != search && _visited[owner] != Dead)
                    {
                        _visited[owner] = search;
                        _parent[owner] = g;
                        reached[reachedGpus++] = owner;
                        free = FreeNeighbour(next, owner);
                        if (free >= 0)
                        {
                            at = owner;
                            break;
                        }
                    }
                }
            }
        }

        if (free >= 0)
        {
            // Flip the path: each new GPU on it takes the old GPU its child was reached through, the last the free one.
            for (int gpu = at, h = free; gpu >= 0; gpu = _parent[gpu])
            {
                int previous = _oldOf[gpu];
                (_newOf[h], _oldOf[gpu]) = (gpu, h);
                h = previous;
            }

            return;
        }

        foreach (int gpu in reached[..reachedGpus])
        {
            _visited[gpu] = Dead;
        }

        foreach (int expert in reached[^reachedExperts..])
        {
            _expanded[expert] = Dead;
        }
    }
}
