namespace Eplb;

/// <summary>
/// Local search on a scope's placement: relieves the busiest GPU by swapping one of its replicas with a lighter one
/// elsewhere, or by handing a redundant replica of another expert over to one of its experts, as long as every GPU
/// the move touches ends lighter than the busiest was.
/// </summary>
/// <remarks>
/// <para>
/// Each accepted move leaves fewer GPUs at the current maximum or lowers it, so the layer's maximum never rises and
/// the search ends; it stops when no move relieves the busiest GPU, or after a number of moves fixed by the scope's
/// size (so a huge scope cannot run long). No move puts two replicas of an expert on one GPU.
/// </para>
/// <para>
/// The moves (docs/refined.md): a <em>swap</em> exchanges replica <c>x</c> of the busiest GPU <c>g</c> for a lighter
/// replica <c>y</c> of GPU <c>h</c>; a <em>hand-over</em> turns a replica of expert <c>a</c> (one of at least two) on
/// GPU <c>h</c> into a replica of expert <c>b</c> held by <c>g</c>, which lightens every replica of <c>b</c> and
/// loads the other replicas of <c>a</c>.
/// </para>
/// </remarks>
internal static class PlacementSearch
{
    // A move must lower what it touches by more than rounding could: progress is real, and the search cannot cycle.
    private const double Progress = 1e-12;

    // The steps a scope's search may take (rounds, or scans for a duplicate's swap): about a few milliseconds' worth.
    private const long MaxWork = 4_000_000;

    /// <summary>Improves <paramref name="plan"/> in place (its loads current on return) and returns its busiest load.</summary>
    /// <param name="plan">The placement.</param>
    /// <param name="buffers">Scratch.</param>
    /// <param name="gpusPerNode">GPUs per node: replicas move only within their node (the plan's GPUs for any).</param>
    /// <param name="costs">For budgeted migration, the copies each move takes and the budget left; null when moves are free.</param>
    public static double Improve(ScopePlan plan, SearchBuffers buffers, int gpusPerNode, MigrationBudget? costs = null)
    {
        int perGpu = plan.SlotsPerGpu, slots = plan.Slots;
        int[] slotExpert = plan.SlotExpert;
        double[] loads = plan.Loads;

        // Each round costs about slotsPerGpu × slots steps: the budget keeps a scope to a few million steps.
        long maxRounds = Math.Max(1, MaxWork / Math.Max(1L, (long)perGpu * slots));
        double max = costs is null ? RemoveDuplicates(plan, buffers) : plan.ComputeLoads();
        for (long round = 0; round < maxRounds && perGpu > 1; round++)
        {
            int g = plan.BusiestGpu();
            int nodeFirst = g / gpusPerNode * gpusPerNode * perGpu, nodeEnd = nodeFirst + (gpusPerNode * perGpu);
            var choice = new MoveChoice(max * (1 - Progress), costs?.Remaining ?? 0);
            Span<double> share = buffers.PrepareRound(plan);

            // Swaps: x on g, y on another GPU h of g's node, y lighter than x.
            for (int y = nodeFirst; y < nodeEnd; y++)
            {
                int h = y / perGpu;
                if (h == g)
                {
                    y += perGpu - 1;
                    continue;
                }

                double shareF = share[y];
                for (int x = g * perGpu; x < (g + 1) * perGpu; x++)
                {
                    double gain = share[x] - shareF;
                    if (gain <= 0 || loads[h] + gain >= choice.Bound || max - gain >= choice.Bound)
                    {
                        continue;
                    }

                    int e = slotExpert[x], f = slotExpert[y];
                    if (!buffers.Holds(plan, g, f) && !buffers.Holds(plan, h, e))
                    {
                        choice.Consider(Math.Max(max - gain, loads[h] + gain), new Move(x, y, handOver: false), costs?.SwapCost(x, y) ?? 0);
                    }
                }
            }

            // Hand-overs: a replica of a (count ≥ 2) on h of g's node, not g, becomes one of b, which g holds and h does not.
            // Judging one touches every replica of a and b: the round stops judging once that adds up to MaxWork.
            ReadOnlySpan<int> spare = buffers.SpareSlots;
            long judged = 0;
            for (int x = g * perGpu; x < (g + 1) * perGpu && judged < MaxWork; x++)
            {
                int b = slotExpert[x];
                if (plan.Counts[b] >= gpusPerNode)
                {
                    continue;
                }

                double newShareB = plan.Weight[b] / (plan.Counts[b] + 1), relief = share[x] - newShareB;
                foreach (int y in spare)
                {
                    // A donor with more replicas than GPUs (only where experts are too few for the slots) would make
                    // the touched loads a long list; such experts give up none.
                    int a = slotExpert[y], h = y / perGpu;
                    if (a == b || h == g || y < nodeFirst || y >= nodeEnd || max - relief >= choice.Bound || plan.Counts[a] > gpusPerNode)
                    {
                        continue;
                    }

                    // a's other replicas grow; the busiest of them can shrink by at most b's relief.
                    double growth = (plan.Weight[a] / (plan.Counts[a] - 1)) - share[y];
                    double newH = loads[h] - share[y] + newShareB;
                    if (newH >= choice.Bound || buffers.BusiestOtherHolder(a, h) + growth - relief >= choice.Bound || buffers.Holds(plan, h, b))
                    {
                        continue;
                    }

                    int cost = costs?.HandOverCost(y, a, b) ?? 0;
                    if (cost <= choice.Affordable)
                    {
                        choice.Consider(buffers.LoadsAfterHandOver(plan, a, b, y, newShareB), new Move(x, y, handOver: true), cost);
                        judged += plan.Counts[a] + plan.Counts[b];
                        if (judged >= MaxWork)
                        {
                            break;
                        }
                    }
                }
            }

            if (!choice.TryTake(out Move best, out int spent))
            {
                break;
            }

            costs?.Spend(spent);
            if (best.HandOver)
            {
                int a = slotExpert[best.Other];
                slotExpert[best.Other] = slotExpert[best.Busiest];
                plan.Counts[a]--;
                plan.Counts[slotExpert[best.Busiest]]++;
            }
            else
            {
                (slotExpert[best.Busiest], slotExpert[best.Other]) = (slotExpert[best.Other], slotExpert[best.Busiest]);
            }

            max = plan.ComputeLoads();
        }

        return max;
    }

    // A packing leaves a duplicate only when, at the end, fewer GPUs than an expert's replicas had room (or when the
    // experts cannot fill the slots otherwise); each is swapped with the replica elsewhere that keeps the two GPUs
    // lightest, or else handed over to the expert that keeps the touched GPUs lightest, if that keeps the busiest
    // GPU's load — within the same bound on work as the search.
    private static double RemoveDuplicates(ScopePlan plan, SearchBuffers buffers)
    {
        double max = plan.ComputeLoads();
        int perGpu = plan.SlotsPerGpu, slots = plan.Slots;
        int[] slotExpert = plan.SlotExpert;
        long work = 0;
        for (int x = 0; x < slots && work < MaxWork; x++)
        {
            int g = x / perGpu, e = slotExpert[x];
            if (!slotExpert.AsSpan(g * perGpu, x - (g * perGpu)).Contains(e))
            {
                continue;
            }

            int bestY = -1;
            double bestLoad = double.PositiveInfinity, shareE = plan.Share(e);
            work += (long)slots * perGpu;
            for (int y = 0; y < slots; y++)
            {
                int h = y / perGpu, f = slotExpert[y];
                if (h == g || f == e || plan.Holds(h, e) || plan.Holds(g, f))
                {
                    continue;
                }

                double shareF = plan.Share(f);
                double worse = Math.Max(plan.Loads[g] - shareE + shareF, plan.Loads[h] - shareF + shareE);
                if (worse < bestLoad)
                {
                    (bestY, bestLoad) = (y, worse);
                }
            }

            if (bestY >= 0 && bestLoad <= max)
            {
                (slotExpert[x], slotExpert[bestY]) = (slotExpert[bestY], slotExpert[x]);
                max = plan.ComputeLoads();
                continue;
            }

            // No swap will do: hand the second replica over to another expert the GPU lacks, if one keeps the maximum.
            buffers.PrepareRound(plan);
            int bestB = -1;
            bestLoad = double.PositiveInfinity;
            for (int b = 0; b < plan.Experts && work < MaxWork; b++)
            {
                if (b == e || plan.Counts[b] >= plan.Gpus || plan.Holds(g, b))
                {
                    continue;
                }

                work += plan.Counts[e] + plan.Counts[b];
                double worse = buffers.LoadsAfterHandOver(plan, e, b, x, plan.Weight[b] / (plan.Counts[b] + 1));
                if (worse < bestLoad)
                {
                    (bestB, bestLoad) = (b, worse);
                }
            }

            if (bestB >= 0 && bestLoad <= max)
            {
                slotExpert[x] = bestB;
                plan.Counts[e]--;
                plan.Counts[bestB]++;
                max = plan.ComputeLoads();
            }
        }

        return max;
    }

    // The best free move, else the best move the budget affords: copies are spent only when nothing free helps.
    private struct MoveChoice(double bound, int affordable)
    {
        private Move _free;
        private Move _paid;
        private int _freeCost;
        private double _freeLoad = bound;
        private double _paidLoad = bound;
        private int _paidCost = int.MaxValue;

        /// <summary>A move is worth a look only if the GPUs it touches end below this.</summary>
        public readonly double Bound => _freeLoad;

        public readonly int Affordable { get; } = affordable;

        public void Consider(double load, Move move, int cost)
        {
            if (cost <= 0)
            {
                if (load < _freeLoad)
                {
                    (_free, _freeLoad, _freeCost) = (move, load, cost);
                }
            }
            else if (cost <= Affordable && (load < _paidLoad || (load == _paidLoad && cost < _paidCost)))
            {
                (_paid, _paidLoad, _paidCost) = (move, load, cost);
            }
        }

        /// <summary>The move to make and its cost: negative when it brings replicas back to where they were.</summary>
        public readonly bool TryTake(out Move move, out int cost)
        {
            (move, cost) = _free.Found ? (_free, _freeCost) : (_paid, _paid.Found ? _paidCost : 0);
            return move.Found;
        }
    }

    private readonly struct Move(int busiest, int other, bool handOver)
    {
        /// <summary>The slot on the busiest GPU (for a hand-over: a replica of the expert gaining one).</summary>
        public int Busiest { get; } = busiest;

        /// <summary>The slot elsewhere (for a hand-over: the replica that changes expert).</summary>
        public int Other { get; } = other;

        public bool HandOver { get; } = handOver;

        public bool Found => Busiest != Other;
    }
}

/// <summary>Scratch for <see cref="PlacementSearch"/>: each expert's slots, and per-GPU load changes.</summary>
internal sealed class SearchBuffers
{
    private int[] _holderStart = [];
    private int[] _holderSlots = [];
    private int[] _cursor = [];
    private double[] _delta = [];
    private int[] _stamp = [];
    private int[] _touched = [];
    private int _round;
    private double[] _share = [];
    private ulong[] _masks = [];
    private int[] _spare = [];
    private int _spareCount;
    private int[] _busiestHolder = [];
    private double[] _busiestHolderLoad = [];
    private double[] _secondHolderLoad = [];

    /// <summary>The slots whose expert has another replica: the ones a hand-over may take.</summary>
    public ReadOnlySpan<int> SpareSlots => _spare.AsSpan(0, _spareCount);

    public long Bytes => (sizeof(int) * ((long)_holderStart.Length + _holderSlots.Length + _cursor.Length + _stamp.Length + _touched.Length + _spare.Length + _busiestHolder.Length))
        + (sizeof(double) * ((long)_delta.Length + _share.Length + _busiestHolderLoad.Length + _secondHolderLoad.Length)) + (sizeof(ulong) * (long)_masks.Length);

    public void Reset(int experts, int gpus, int slots)
    {
        if (_holderStart.Length < experts + 1)
        {
            _holderStart = new int[experts + 1];
            _cursor = new int[experts];
            _busiestHolder = new int[experts];
            _busiestHolderLoad = new double[experts];
            _secondHolderLoad = new double[experts];
        }

        if (_holderSlots.Length < slots)
        {
            _holderSlots = new int[slots];
        }

        if (_share.Length < slots)
        {
            _share = new double[slots];
            _spare = new int[slots];
        }

        if (_delta.Length < gpus)
        {
            _masks = new ulong[gpus];
            _delta = new double[gpus];
            _stamp = new int[gpus];
            _touched = new int[gpus];
        }
    }

    /// <summary>
    /// Readies a round: each slot's share, each GPU's experts as a 64-bit mask (expert mod 64: a fast "no" for
    /// <see cref="Holds"/>), the slots that may be handed over, and each expert's slots.
    /// </summary>
    public Span<double> PrepareRound(ScopePlan plan)
    {
        int perGpu = plan.SlotsPerGpu;
        Span<double> share = _share.AsSpan(0, plan.Slots);
        _spareCount = 0;
        for (int g = 0, s = 0; g < plan.Gpus; g++)
        {
            ulong mask = 0;
            for (int end = s + perGpu; s < end; s++)
            {
                int e = plan.SlotExpert[s];
                share[s] = plan.Share(e);
                mask |= 1UL << e;
                if (plan.Counts[e] >= 2)
                {
                    _spare[_spareCount++] = s;
                }
            }

            _masks[g] = mask;
        }

        BuildHolders(plan);
        return share;
    }

    /// <summary>The busiest load among the GPUs holding <paramref name="expert"/>, other than <paramref name="gpu"/>.</summary>
    public double BusiestOtherHolder(int expert, int gpu) => _busiestHolder[expert] == gpu ? _secondHolderLoad[expert] : _busiestHolderLoad[expert];

    /// <summary>Whether GPU <paramref name="gpu"/> holds a replica of <paramref name="expert"/>.</summary>
    public bool Holds(ScopePlan plan, int gpu, int expert) => (_masks[gpu] & (1UL << expert)) != 0 && plan.Holds(gpu, expert);

    /// <summary>Lists each expert's slots, grouped by expert.</summary>
    private void BuildHolders(ScopePlan plan)
    {
        int n = plan.Experts;
        for (int e = 0, at = 0; e < n; e++)
        {
            _holderStart[e] = at;
            _cursor[e] = at;
            at += plan.Counts[e];
            _holderStart[e + 1] = at;
        }

        _busiestHolder.AsSpan(0, n).Fill(-1);
        _busiestHolderLoad.AsSpan(0, n).Fill(double.MinValue);
        _secondHolderLoad.AsSpan(0, n).Fill(double.MinValue);
        for (int s = 0; s < plan.Slots; s++)
        {
            int e = plan.SlotExpert[s], g = s / plan.SlotsPerGpu;
            _holderSlots[_cursor[e]++] = s;
            double load = plan.Loads[g];
            if (load > _busiestHolderLoad[e])
            {
                _secondHolderLoad[e] = _busiestHolderLoad[e];
                _busiestHolderLoad[e] = load;
                _busiestHolder[e] = g;
            }
            else if (load > _secondHolderLoad[e])
            {
                _secondHolderLoad[e] = load;
            }
        }
    }

    /// <summary>
    /// The heaviest load among the GPUs a hand-over touches: slot <paramref name="slot"/> turns from expert
    /// <paramref name="from"/> into <paramref name="to"/>, whose replicas then carry <paramref name="newShareTo"/>.
    /// </summary>
    public double LoadsAfterHandOver(ScopePlan plan, int from, int to, int slot, double newShareTo)
    {
        if (++_round == int.MaxValue)
        {
            Array.Clear(_stamp);
            _round = 1;
        }

        int perGpu = plan.SlotsPerGpu, touched = 0;
        double shareTo = plan.Share(to), shareFrom = plan.Share(from);
        double newShareFrom = plan.Weight[from] / (plan.Counts[from] - 1);
        for (int i = _holderStart[to]; i < _holderStart[to + 1]; i++)
        {
            touched = Touch(_holderSlots[i] / perGpu, newShareTo - shareTo, touched);
        }

        for (int i = _holderStart[from]; i < _holderStart[from + 1]; i++)
        {
            int s = _holderSlots[i];
            touched = Touch(s / perGpu, s == slot ? newShareTo - shareFrom : newShareFrom - shareFrom, touched);
        }

        double worst = double.MinValue;
        for (int i = 0; i < touched; i++)
        {
            int g = _touched[i];
            worst = Math.Max(worst, plan.Loads[g] + _delta[g]);
        }

        return worst;
    }

    private int Touch(int gpu, double change, int touched)
    {
        if (_stamp[gpu] != _round)
        {
            _stamp[gpu] = _round;
            _delta[gpu] = 0;
            _touched[touched++] = gpu;
        }

        _delta[gpu] += change;
        return touched;
    }
}
