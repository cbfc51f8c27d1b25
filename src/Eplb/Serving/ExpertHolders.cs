namespace Eplb;

/// <summary>
/// One layer of a placement, indexed by expert: the GPUs holding each expert, each listed once and in ascending
/// order. Built once per layer and reused, so relabelling and migration find holders without scanning slots.
/// </summary>
internal sealed class ExpertHolders
{
    private int[] _start = [];
    private int[] _holders = [];
    private int[] _filled = [];
    private int[] _firstOnGpu = [];
    private readonly ExpertMarks _onGpu = new();
    private readonly ExpertMarks _received = new();

    /// <summary>Indexes <paramref name="placement"/> (one layer's <c>phy2log</c>, -1 for unavailable slots).</summary>
    public void Build(ReadOnlySpan<int> placement, int slotsPerGpu, int experts)
    {
        Scratch.Grow(ref _start, experts + 1);
        Scratch.Grow(ref _filled, experts);
        Scratch.Grow(ref _holders, placement.Length);
        Scratch.Grow(ref _firstOnGpu, placement.Length);
        Span<int> start = _start.AsSpan(0, experts + 1), firstOnGpu = _firstOnGpu.AsSpan(0, placement.Length);
        start.Clear();
        _onGpu.Reset(experts);

        // Each slot whose expert its GPU has not held in an earlier slot is one holding: counted per expert, and
        // marked with its GPU (else -1) for the second pass.
        for (int gpu = 0, p = 0; p < placement.Length; gpu++)
        {
            _onGpu.NextRound();
            for (int end = p + slotsPerGpu; p < end; p++)
            {
                int expert = placement[p];
                bool first = expert >= 0 && _onGpu.Add(expert);
                firstOnGpu[p] = first ? gpu : -1;
                if (first)
                {
                    start[expert + 1]++;
                }
            }
        }

        for (int e = 0; e < experts; e++)
        {
            start[e + 1] += start[e];
        }

        _received.Reset(experts);
        Span<int> filled = _filled.AsSpan(0, experts);
        filled.Clear();
        for (int p = 0; p < placement.Length; p++)
        {
            if (firstOnGpu[p] >= 0)
            {
                int expert = placement[p];
                _holders[start[expert] + filled[expert]++] = firstOnGpu[p];
            }
        }
    }

    /// <summary>The GPUs holding <paramref name="expert"/>, ascending.</summary>
    public ReadOnlySpan<int> Of(int expert) => _holders.AsSpan(_start[expert], _start[expert + 1] - _start[expert]);

    /// <summary>Whether <paramref name="gpu"/> holds <paramref name="expert"/>.</summary>
    public bool Holds(int gpu, int expert) => Of(expert).Contains(gpu); // a few holders: a scan beats a search

    /// <summary>Starts the count of what one GPU of a new placement receives.</summary>
    public void BeginReceiving() => _received.NextRound();

    /// <summary>
    /// Whether <paramref name="gpu"/>, given <paramref name="expert"/> (-1: none) in its next slot, must receive a
    /// copy: it does not hold the expert now, and no earlier slot since <see cref="BeginReceiving"/> received it.
    /// </summary>
    public bool MustReceive(int gpu, int expert) => expert >= 0 && _received.Add(expert) && !Holds(gpu, expert);

    /// <summary>
    /// A GPU to copy <paramref name="expert"/> from to a GPU of the node whose GPUs are
    /// <c>[nodeStart, nodeEnd)</c>: the lowest holder on that node, else the lowest anywhere, else -1.
    /// </summary>
    public int SourceFor(int expert, int nodeStart, int nodeEnd)
    {
        // Holders are ascending: the first at or after the node's start is on the node if any is.
        ReadOnlySpan<int> holders = Of(expert);
        foreach (int holder in holders)
        {
            if (holder >= nodeStart)
            {
                return holder < nodeEnd ? holder : holders[0];
            }
        }

        return holders.IsEmpty ? -1 : holders[0];
    }
}
