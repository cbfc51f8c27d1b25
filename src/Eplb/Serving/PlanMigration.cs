namespace Eplb;

/// <summary>One expert weight a GPU must receive to go from the placement in force to a new one.</summary>
/// <param name="Layer">The MoE layer.</param>
/// <param name="Expert">The logical expert to copy.</param>
/// <param name="Gpu">The GPU that receives it.</param>
/// <param name="Slot">The physical slot it goes to (<c>phy2log</c>'s column).</param>
/// <param name="SourceGpu">A GPU that holds the expert now — one on the receiver's node if there is one — or -1 if none does.</param>
public readonly record struct ExpertCopy(int Layer, int Expert, int Gpu, int Slot, int SourceGpu);

/// <summary>What it takes to go from the placement in force to a new one: the expert weights to copy.</summary>
/// <remarks>
/// A copy is an expert a GPU must receive: on it in the new placement, not on it in the placement in force, counted
/// once per GPU and expert. Replicas that only change slot on their GPU cost nothing.
/// </remarks>
public sealed class PlanMigration
{
    private readonly ExpertCopy[] _moves;

    internal PlanMigration(ExpertCopy[] moves, int freshCopies)
    {
        _moves = moves;
        FreshCopies = freshCopies;
    }

    /// <summary>Expert weights to copy.</summary>
    public int Copies => _moves.Length;

    /// <summary>The copies the fresh plan would have taken without relabelling (equal to <see cref="Copies"/> when there was none).</summary>
    public int FreshCopies { get; }

    /// <summary>Every copy, by layer, then GPU, then slot.</summary>
    public IReadOnlyList<ExpertCopy> Moves => _moves;

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
        int slots = plan.NumPhysicalExperts;
        var holders = new ExpertHolders();
        using var moves = new CopyBuffer(atMost: plan.NumLayers * slots);
        for (int l = 0; l < plan.NumLayers; l++)
        {
            ReadOnlySpan<int> old = placementInForce.Slice(l * slots, slots);
            holders.Build(old, slots / plan.NumGpus, plan.NumLogicalExperts);
            AddCopies(l, plan.GetPhysicalToLogical(l), plan.NumGpus, plan.NumNodes, holders, moves);
        }

        return new PlanMigration(moves.ToArray(), moves.Count);
    }

    /// <summary>Adds one layer's copies from the placement <paramref name="holders"/> indexes to <paramref name="next"/>, by GPU and then slot.</summary>
    internal static void AddCopies(int layer, ReadOnlySpan<int> next, int gpus, int nodes, ExpertHolders holders, CopyBuffer moves)
    {
        int perGpu = next.Length / gpus, perNode = gpus / nodes;
        for (int g = 0; g < gpus; g++)
        {
            holders.BeginReceiving();
            int nodeStart = g - (g % perNode);
            for (int s = g * perGpu; s < (g + 1) * perGpu; s++)
            {
                int expert = next[s];
                if (holders.MustReceive(g, expert))
                {
                    moves.Add(new ExpertCopy(layer, expert, g, s, holders.SourceFor(expert, nodeStart, nodeStart + perNode)));
                }
            }
        }
    }
}

/// <summary>A fresh plan relabelled to copy as few expert weights as possible, and its migration.</summary>
public sealed class RelabelledPlan
{
    internal RelabelledPlan(RebalancePlan plan, PlanMigration migration)
    {
        Plan = plan;
        Migration = migration;
    }

    /// <summary>The relabelled plan: the fresh plan's per-GPU loads and replica counts, GPUs and slots renumbered.</summary>
    public RebalancePlan Plan { get; }

    /// <summary>The copies it takes from the placement in force; <see cref="PlanMigration.FreshCopies"/> says what the fresh plan would have taken.</summary>
    public PlanMigration Migration { get; }
}
