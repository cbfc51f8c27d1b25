namespace Eplb;

/// <summary>
/// The refined placer's scratch for one layer at a time, kept per thread between calls within
/// <see cref="RebalanceLimits.MaxRetainedScratchBytes"/>, as the reference placer's is.
/// </summary>
internal sealed class RefinedWorkspace
{
    [ThreadStatic]
    private static RefinedWorkspace? t_kept;

    private int[] _row = [];
    private int[] _counts = [];
    private int[] _scopeToLogical = [];
    private int[] _scopeOf = [];

    private RefinedWorkspace()
    {
    }

    public ScopePlan Plan { get; } = new();

    public ScopePlan Trial { get; } = new();

    public PackingBuffers Packing { get; } = new();

    public SearchBuffers Search { get; } = new();

    public CountSearchBuffers CountSearch { get; } = new();

    public GroupAssignment Groups { get; } = new();

    /// <summary>The refined layer's <c>phy2log</c> row, before it is known to beat the reference's.</summary>
    public Span<int> Row(int slots) => _row.AsSpan(0, slots);

    /// <summary>The refined layer's replica counts, by logical expert.</summary>
    public Span<int> Counts(int experts) => _counts.AsSpan(0, experts);

    /// <summary>The logical expert of each of a scope's experts.</summary>
    public Span<int> ScopeToLogical(int experts) => _scopeToLogical.AsSpan(0, experts);

    /// <summary>Each logical expert's number within its scope.</summary>
    public Span<int> ScopeOf(int experts) => _scopeOf.AsSpan(0, experts);

    private long Bytes => (sizeof(int) * ((long)_row.Length + _counts.Length + _scopeToLogical.Length + _scopeOf.Length))
        + Plan.Bytes + Trial.Bytes + Packing.Bytes + Search.Bytes + CountSearch.Bytes + Groups.Bytes;

    /// <summary>This thread's workspace, grown for <paramref name="shape"/>; give it back with <see cref="Return"/>.</summary>
    public static RefinedWorkspace Rent(in RebalanceShape shape)
    {
        RefinedWorkspace workspace = t_kept ?? new RefinedWorkspace();
        t_kept = null;
        Scratch.Grow(ref workspace._row, shape.Replicas);
        Scratch.Grow(ref workspace._counts, shape.Experts);
        Scratch.Grow(ref workspace._scopeOf, shape.Experts);
        Scratch.Grow(ref workspace._scopeToLogical, shape.ExpertsPerNode);
        workspace.Plan.Reset(shape.ExpertsPerNode, shape.GpusPerNode, shape.SlotsPerGpu);
        workspace.Packing.Reset(shape.ExpertsPerNode, shape.GpusPerNode);
        workspace.Search.Reset(shape.ExpertsPerNode, shape.GpusPerNode, shape.SlotsPerNode);
        workspace.CountSearch.Reset(shape.ExpertsPerNode, shape.GpusPerNode);
        return workspace;
    }

    /// <summary>Keeps <paramref name="workspace"/> for this thread's next call, unless it is too large to keep.</summary>
    public static void Return(RefinedWorkspace workspace) => t_kept = Scratch.MayRetain(workspace.Bytes) ? workspace : null;
}
