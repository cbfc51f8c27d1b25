namespace Eplb;

/// <summary>What it takes to go from the placement in force to a new one: the expert weights to copy.</summary>
/// <remarks>
/// <para>
/// A copy is an expert a GPU must receive: on it in the new placement, not on it in the placement in force, counted
/// once per GPU and expert. Replicas that only change slot on their GPU cost nothing.
/// </para>
/// <para>
/// The count is known at once; the list of copies is made when <see cref="Moves"/> is first read, so that a server
/// whose decision is not to migrate never pays for it. Either way the migration is immutable and thread-safe.
/// </para>
/// </remarks>
public sealed class PlanMigration
{
    private readonly int[] _placementInForce;
    private readonly RebalancePlan _plan;
    private ExpertCopy[]? _moves;

    private PlanMigration(int[] placementInForce, RebalancePlan plan, int copies, int freshCopies)
    {
        _placementInForce = placementInForce;
        _plan = plan;
        Copies = copies;
        FreshCopies = freshCopies;
    }

    /// <summary>Expert weights to copy.</summary>
    public int Copies { get; }

    /// <summary>The copies the fresh plan would have taken without relabelling (equal to <see cref="Copies"/> when there was none).</summary>
    public int FreshCopies { get; }

    /// <summary>Every copy, by layer, then GPU, then slot.</summary>
    public IReadOnlyList<ExpertCopy> Moves
    {
        get
        {
            if (_moves is null)
            {
                // Every thread that lists the moves lists the same ones: keep the first list made.
                Interlocked.CompareExchange(ref _moves, ListMoves(_placementInForce, _plan), null);
            }

            return _moves;
        }
    }

    /// <summary>The copies from <paramref name="placementInForce"/> to <paramref name="plan"/>, as they stand (no relabelling).</summary>
    /// <param name="placementInForce">The placement serving now: <c>phy2log</c>, <c>[layers, slots]</c> of the plan's shape; -1 for unavailable slots.</param>
    /// <param name="plan">The placement to go to.</param>
    /// <returns>The copies.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="plan"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="placementInForce"/> does not hold <c>layers × slots</c> entries.</exception>
    /// <exception cref="ArgumentException"><paramref name="placementInForce"/> places an expert outside <c>[-1, experts)</c>.</exception>
    public static PlanMigration Between(ReadOnlySpan<int> placementInForce, RebalancePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        PlanRelabelling.ThrowIfNotAPlacement(plan, placementInForce);
        int[] inForce = placementInForce.ToArray();
        ExpertCopy[] moves = ListMoves(inForce, plan);
        return new PlanMigration(inForce, plan, moves.Length, moves.Length) { _moves = moves };
    }

    /// <summary>A migration whose count is known (relabelling counts as it matches slots) and whose list is made on demand.</summary>
    internal static PlanMigration Counted(int[] placementInForce, RebalancePlan plan, int copies, int freshCopies) =>
        new(placementInForce, plan, copies, freshCopies);

    // Each GPU's slots in order: an expert it must receive is one copy, from a holder on its node if there is one.
    private static ExpertCopy[] ListMoves(int[] placementInForce, RebalancePlan plan)
    {
        int slots = plan.NumPhysicalExperts, gpus = plan.NumGpus, perGpu = slots / gpus, perNode = gpus / plan.NumNodes;
        var holders = new ExpertHolders();
        using var moves = new CopyBuffer(atMost: plan.NumLayers * slots);
        for (int layer = 0; layer < plan.NumLayers; layer++)
        {
            holders.Build(placementInForce.AsSpan(layer * slots, slots), perGpu, plan.NumLogicalExperts);
            ReadOnlySpan<int> next = plan.GetPhysicalToLogical(layer);
            for (int g = 0; g < gpus; g++)
            {
                holders.BeginReceiving();
                int nodeStart = g - (g % perNode);
                for (int s = g * perGpu; s < (g + 1) * perGpu; s++)
                {
                    int expert = next[s];
                    if (holders.MustReceive(g, expert))
                    {
                        moves.Add(layer, expert, g, s, holders.SourceFor(expert, nodeStart, nodeStart + perNode));
                    }
                }
            }
        }

        return moves.ToArray();
    }
}
