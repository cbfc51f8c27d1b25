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
    private readonly ExpertMarks _onGpu = new();
    private readonly ExpertMarks _received = new();

    /// <summary>Indexes <paramref name="placement"/> (one layer's <c>phy2log</c>, -1 for unavailable slots).</summary>
    public void Build(ReadOnlySpan<int> placement, int slotsPerGpu, int experts)
    {
        Grow(ref _start, experts + 1);
        Grow(ref _filled, experts);
        Grow(ref _holders, placement.Length);
        Span<int> start = _start.AsSpan(0, experts + 1);
        start.Clear();
        _onGpu.Reset(experts);
        for (int p = 0; p < placement.Length; p++)
        {
            if (p % slotsPerGpu == 0)
            {
                _onGpu.NextRound();
            }

            if (placement[p] >= 0 && _onGpu.Add(placement[p]))
            {
                start[placement[p] + 1]++;
            }
        }

        for (int e = 0; e < experts; e++)
        {
            start[e + 1] += start[e];
        }

        _received.Reset(experts);
        _filled.AsSpan(0, experts).Clear();
        for (int p = 0; p < placement.Length; p++)
        {
            if (p % slotsPerGpu == 0)
            {
                _onGpu.NextRound();
            }

            int expert = placement[p];
            if (expert >= 0 && _onGpu.Add(expert))
            {
                _holders[start[expert] + _filled[expert]++] = p / slotsPerGpu;
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

    /// <summary>A GPU to copy <paramref name="expert"/> from to <paramref name="gpu"/>: the lowest holder on its node, else the lowest anywhere, else -1.</summary>
    public int SourceFor(int expert, int gpu, int gpusPerNode)
    {
        ReadOnlySpan<int> holders = Of(expert);
        int node = gpu / gpusPerNode;
        foreach (int holder in holders)
        {
            if (holder / gpusPerNode == node)
            {
                return holder;
            }
        }

        return holders.IsEmpty ? -1 : holders[0];
    }

    private static void Grow(ref int[] array, int length)
    {
        if (array.Length < length)
        {
            array = new int[length];
        }
    }
}
