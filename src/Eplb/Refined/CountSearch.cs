namespace Eplb;

/// <summary>
/// Replica counts chosen together with their packing, for scopes with few slots per GPU: moves one replica from an
/// expert that can spare it to one that would gain from it, while the folded packing of the shares improves.
/// </summary>
/// <remarks>
/// <para>
/// With few slots per GPU the greedy counts (<see cref="ReplicaCounts"/>) can be wrong: they minimise the largest
/// share, but a GPU's few slots may then have to pair two large shares. The FlashLB example — loads 600, 560, 120,
/// 120, 20, 10, 10, 10 on 8 GPUs of 2 slots — needs counts (4, 4, 2, 2, 1, 1, 1, 1), not the greedy's (5, 5, 1, …).
/// </para>
/// <para>
/// A count vector is judged by the <em>fold</em> of its shares, sorted heaviest first and dealt to the GPUs in a
/// snake (0 … G-1, then G-1 … 0, …): for two slots per GPU that pairs the largest share with the smallest, the best
/// pairing there is. Each round tries the <see cref="Candidates"/> largest shares as receivers and the
/// <see cref="Candidates"/> experts whose share would grow least as donors, and keeps the move that lowers the fold's
/// maximum most (then its sum of squared loads). The fold ignores duplicates, so the placer packs the result properly
/// and keeps it only if it beats the greedy counts.
/// </para>
/// </remarks>
internal static class CountSearch
{
    /// <summary>Receivers and donors tried per round.</summary>
    public const int Candidates = 4;

    /// <summary>The most moves kept.</summary>
    public const int MaxRounds = 16;

    // The most steps of folding (slots and experts per candidate): no scope's search runs long.
    private const long MaxWork = 50_000_000;

    /// <summary>Improves <paramref name="plan"/>'s counts in place; returns whether any changed.</summary>
    public static bool Improve(ScopePlan plan, CountSearchBuffers buffers)
    {
        int n = plan.Experts;
        Span<int> order = buffers.Order.AsSpan(0, n), trial = buffers.Trial.AsSpan(0, n);
        for (int e = 0; e < n; e++)
        {
            order[e] = e;
        }

        order.Sort(new ByShareDescending(plan));
        Fold current = Evaluate(plan, order, buffers.Loads);
        Span<int> receivers = buffers.Receivers, donors = buffers.Donors;
        bool changed = false;
        long roundCost = (long)Candidates * Candidates * (plan.Slots + n);
        for (int round = 0; round < MaxRounds && (round + 1) * roundCost <= MaxWork; round++)
        {
            int receiverCount = Select(plan, receivers, receiver: true);
            int donorCount = Select(plan, donors, receiver: false);
            int bestDonor = -1, bestReceiver = -1;
            Fold best = current;
            for (int d = 0; d < donorCount; d++)
            {
                for (int r = 0; r < receiverCount; r++)
                {
                    int donor = donors[d], receiver = receivers[r];
                    if (donor == receiver)
                    {
                        continue;
                    }

                    plan.Counts[donor]--;
                    plan.Counts[receiver]++;
                    Reorder(plan, order, trial, donor, receiver);
                    Fold fold = Evaluate(plan, trial, buffers.Loads);
                    plan.Counts[donor]++;
                    plan.Counts[receiver]--;
                    if (fold.IsBetterThan(best))
                    {
                        (best, bestDonor, bestReceiver) = (fold, donor, receiver);
                    }
                }
            }

            if (bestDonor < 0)
            {
                break;
            }

            plan.Counts[bestDonor]--;
            plan.Counts[bestReceiver]++;
            Reorder(plan, order, trial, bestDonor, bestReceiver);
            trial.CopyTo(order);
            current = best;
            changed = true;
        }

        return changed;
    }

    // Shares dealt in a snake over the GPUs, heaviest first.
    private static Fold Evaluate(ScopePlan plan, ReadOnlySpan<int> order, double[] loadBuffer)
    {
        int gpus = plan.Gpus;
        Span<double> loads = loadBuffer.AsSpan(0, gpus);
        loads.Clear();
        int position = 0;
        foreach (int e in order)
        {
            double share = plan.Share(e);
            for (int r = plan.Counts[e]; r > 0; r--, position++)
            {
                int round = position / gpus, i = position - (round * gpus);
                loads[(round & 1) == 0 ? i : gpus - 1 - i] += share;
            }
        }

        double max = 0, squares = 0;
        foreach (double load in loads)
        {
            max = Math.Max(max, load);
            squares += load * load;
        }

        return new Fold(max, squares);
    }

    // `order` with the two changed experts taken out and put back where their new shares sort.
    private static void Reorder(ScopePlan plan, ReadOnlySpan<int> order, Span<int> result, int a, int b)
    {
        int length = 0;
        foreach (int e in order)
        {
            if (e != a && e != b)
            {
                result[length++] = e;
            }
        }

        Insert(plan, result, ref length, a);
        Insert(plan, result, ref length, b);
    }

    private static void Insert(ScopePlan plan, Span<int> result, ref int length, int e)
    {
        var comparer = new ByShareDescending(plan);
        int at = length++;
        while (at > 0 && comparer.Compare(e, result[at - 1]) < 0)
        {
            result[at] = result[at - 1];
            at--;
        }

        result[at] = e;
    }

    // Receivers: the largest shares among experts with fewer replicas than GPUs. Donors: experts with two or more
    // replicas whose share would grow least. Ties go to the lower id; insertion keeps the short list sorted.
    private static int Select(ScopePlan plan, Span<int> chosen, bool receiver)
    {
        int count = 0;
        for (int e = 0; e < plan.Experts; e++)
        {
            int c = plan.Counts[e];
            if (receiver ? c >= plan.Gpus : c < 2)
            {
                continue;
            }

            double key = Key(plan, e, receiver);
            int at = count < chosen.Length ? count++ : chosen.Length;
            while (at > 0 && key < Key(plan, chosen[at - 1], receiver))
            {
                if (at < chosen.Length)
                {
                    chosen[at] = chosen[at - 1];
                }

                at--;
            }

            if (at < chosen.Length)
            {
                chosen[at] = e;
            }
        }

        return count;
    }

    private static double Key(ScopePlan plan, int e, bool receiver) =>
        receiver ? -plan.Share(e) : plan.Weight[e] / (plan.Counts[e] - 1);

    private readonly struct Fold(double max, double squares)
    {
        public double Max { get; } = max;

        public double Squares { get; } = squares;

        public bool IsBetterThan(Fold other) => Max < other.Max || (Max == other.Max && Squares < other.Squares);
    }
}

/// <summary>Experts by share, heaviest first, then by id: a total order.</summary>
internal readonly struct ByShareDescending(ScopePlan plan) : IComparer<int>
{
    public int Compare(int a, int b) => Order(plan.Share(a), a, plan.Share(b), b);

    /// <summary>The order itself: the larger share first, the lower id of equal shares.</summary>
    public static int Order(double shareA, int a, double shareB, int b)
    {
        int byShare = shareB.CompareTo(shareA);
        return byShare != 0 ? byShare : a.CompareTo(b);
    }
}

/// <summary><see cref="ByShareDescending"/> over shares computed once (for sorting every expert).</summary>
internal readonly struct BySharesDescending(double[] shares) : IComparer<int>
{
    public int Compare(int a, int b) => ByShareDescending.Order(shares[a], a, shares[b], b);
}

/// <summary>Scratch for <see cref="CountSearch"/>.</summary>
internal sealed class CountSearchBuffers
{
    public int[] Order { get; private set; } = [];

    public int[] Trial { get; private set; } = [];

    public double[] Loads { get; private set; } = [];

    public int[] Receivers { get; } = new int[CountSearch.Candidates];

    public int[] Donors { get; } = new int[CountSearch.Candidates];

    public long Bytes => (sizeof(int) * 2L * Order.Length) + (sizeof(double) * (long)Loads.Length);

    public void Reset(int experts, int gpus)
    {
        if (Order.Length < experts)
        {
            Order = new int[experts];
            Trial = new int[experts];
        }

        if (Loads.Length < gpus)
        {
            Loads = new double[gpus];
        }
    }
}
