namespace Eplb;

/// <summary>
/// What moves cost under budgeted migration: the copies they add to the layer's migration from the placement in
/// force, and the copies left. A GPU holding an expert it did not hold before costs one copy, whatever its slot.
/// </summary>
internal sealed class MigrationBudget
{
    private readonly int[] _inForce;
    private int _perGpu;
    private int[] _slotExpert = [];

    public MigrationBudget(int slots) => _inForce = new int[slots];

    /// <summary>Copies the layer may still take.</summary>
    public int Remaining { get; private set; }

    /// <summary>Starts a layer: its placement in force (the search's starting point, <paramref name="slotExpert"/>), and its budget.</summary>
    public void Start(ReadOnlySpan<int> inForce, int[] slotExpert, int perGpu, int budget)
    {
        inForce.CopyTo(_inForce);
        _slotExpert = slotExpert;
        _perGpu = perGpu;
        Remaining = budget;
    }

    /// <summary>Takes a move's copies from the budget; a negative cost (replicas back where they were) gives copies back.</summary>
    public void Spend(int copies) => Remaining -= copies;

    /// <summary>Swapping slots <paramref name="x"/> and <paramref name="y"/>: each GPU receives the other's expert.</summary>
    public int SwapCost(int x, int y)
    {
        int e = _slotExpert[x], f = _slotExpert[y], g = x / _perGpu, h = y / _perGpu;
        return Copy(h, e) + Copy(g, f) - Copy(g, e) - Copy(h, f);
    }

    /// <summary>Slot <paramref name="y"/> turning from expert <paramref name="from"/> into <paramref name="to"/>.</summary>
    public int HandOverCost(int y, int from, int to) => Copy(y / _perGpu, to) - Copy(y / _perGpu, from);

    // 1 if the GPU did not hold the expert in the placement in force: holding it now is a copy.
    private int Copy(int gpu, int expert) => _inForce.AsSpan(gpu * _perGpu, _perGpu).Contains(expert) ? 0 : 1;
}
