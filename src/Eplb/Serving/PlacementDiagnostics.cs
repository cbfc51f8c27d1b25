namespace Eplb;

/// <summary>
/// How well a placement serves some loads: per layer the GPU and node loads, the balance, the lower bound no
/// placement can beat, and the slots wasted on duplicates — for the plan in force, a fresh plan, or a Python
/// server's <c>phy2log</c>, which is all it needs.
/// </summary>
/// <remarks>
/// A GPU's load is the sum over its slots of <c>w[e] / count[e]</c>, <c>count[e]</c> being how many slots hold
/// expert <c>e</c> in that layer; slot <c>p</c> is on GPU <c>p / (slots / numGpus)</c>, GPU <c>g</c> on node
/// <c>g / (numGpus / numNodes)</c>. A slot holding <c>-1</c> is on an unavailable GPU; a GPU all of whose slots are
/// <c>-1</c> counts as unavailable and is left out of the mean and the bound. Arithmetic is <see cref="double"/>.
/// See docs/load-model.md for the definitions.
/// </remarks>
public sealed class PlacementDiagnostics
{
    private PlacementDiagnostics(LayerDiagnostics[] layers)
    {
        Layers = layers;
        double means = 0, maxima = 0;
        foreach (LayerDiagnostics layer in layers)
        {
            means += layer.MeanGpuLoad;
            maxima += layer.MaxGpuLoad;
        }

        Balancedness = maxima == 0 ? 1.0 : means / maxima;
    }

    /// <summary>Each layer's figures.</summary>
    public IReadOnlyList<LayerDiagnostics> Layers { get; }

    /// <summary>Over all layers: the sum of mean GPU loads over the sum of maximum GPU loads (1.0 is perfect).</summary>
    public double Balancedness { get; }

    /// <summary>Analyses <paramref name="physicalToLogical"/> (<c>phy2log</c>, <c>[layers, slots]</c>) against <paramref name="weight"/>.</summary>
    /// <param name="weight">Loads, <c>[layers, logicalExperts]</c> row-major: finite and non-negative.</param>
    /// <param name="numLayers">The number of layers.</param>
    /// <param name="physicalToLogical">The placement, <c>[layers, slots]</c> row-major: each slot's expert, or -1 on an unavailable GPU.</param>
    /// <param name="numGpus">GPUs in all: divides the slots per layer.</param>
    /// <param name="numNodes">Nodes: divides <paramref name="numGpus"/>.</param>
    /// <returns>The figures.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numLayers"/>, <paramref name="numGpus"/> or <paramref name="numNodes"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="numLayers"/> does not divide the length of <paramref name="weight"/> or of <paramref name="physicalToLogical"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> does not divide the slots per layer, or <paramref name="numNodes"/> does not divide <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">A slot holds an expert outside <c>[-1, logicalExperts)</c>, or an expert has no slot.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    public static PlacementDiagnostics Analyze(ReadOnlySpan<float> weight, int numLayers, ReadOnlySpan<int> physicalToLogical, int numGpus, int numNodes)
    {
        ThrowHelper.ThrowIfNotPositive(numLayers, nameof(numLayers));
        ThrowHelper.ThrowIfNotPositive(numGpus, nameof(numGpus));
        ThrowHelper.ThrowIfNotPositive(numNodes, nameof(numNodes));
        ThrowHelper.ThrowIfEmpty(weight.Length, nameof(weight));
        ThrowHelper.ThrowIfNotMultiple(weight.Length, numLayers, nameof(numLayers), "the length of weight");
        ThrowHelper.ThrowIfEmpty(physicalToLogical.Length, nameof(physicalToLogical));
        ThrowHelper.ThrowIfNotMultiple(physicalToLogical.Length, numLayers, nameof(numLayers), "the length of physicalToLogical");
        int experts = weight.Length / numLayers, slots = physicalToLogical.Length / numLayers;
        ThrowHelper.ThrowIfNotMultiple(slots, numGpus, nameof(numGpus), "the slots per layer");
        ThrowHelper.ThrowIfNotMultipleOf(numGpus, numNodes, nameof(numGpus), nameof(numNodes));
        ThrowHelper.ThrowIfInvalidLoads(weight, experts, nameof(weight));

        var layers = new LayerDiagnostics[numLayers];
        for (int l = 0; l < numLayers; l++)
        {
            layers[l] = LayerDiagnostics.Of(l, weight.Slice(l * experts, experts), physicalToLogical.Slice(l * slots, slots), numGpus, numNodes);
        }

        return new PlacementDiagnostics(layers);
    }

    /// <summary>Analyses a plan against row-major loads (<see cref="Analyze(ReadOnlySpan{float}, int, ReadOnlySpan{int}, int, int)"/>).</summary>
    /// <param name="weight">Loads, <c>[layers, logicalExperts]</c> row-major.</param>
    /// <param name="plan">The placement; its GPUs and nodes are the ones it was made for.</param>
    /// <returns>The figures.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="plan"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is not <c>plan.NumLayers × plan.NumLogicalExperts</c> long, or holds a NaN, infinite or negative load.</exception>
    public static PlacementDiagnostics Analyze(ReadOnlySpan<float> weight, RebalancePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (weight.Length != plan.NumLayers * plan.NumLogicalExperts)
        {
            ThrowHelper.Throw(nameof(weight), $"weight must hold layers x experts = {plan.NumLayers} x {plan.NumLogicalExperts} loads, as the plan, but holds {weight.Length}.");
        }

        return Analyze(weight, plan.NumLayers, plan.PhysicalToLogicalSpan, plan.NumGpus, plan.NumNodes);
    }

    /// <summary>Analyses a plan against loads (<see cref="Analyze(ReadOnlySpan{float}, int, ReadOnlySpan{int}, int, int)"/>).</summary>
    /// <param name="weight">Loads, <c>[layers, logicalExperts]</c>.</param>
    /// <param name="plan">The placement; its GPUs and nodes are the ones it was made for.</param>
    /// <returns>The figures.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> or <paramref name="plan"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is not <c>[plan.NumLayers, plan.NumLogicalExperts]</c>, or holds a NaN, infinite or negative load.</exception>
    public static PlacementDiagnostics Analyze(float[,] weight, RebalancePlan plan)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(plan);
        if (weight.GetLength(0) != plan.NumLayers || weight.GetLength(1) != plan.NumLogicalExperts)
        {
            ThrowHelper.Throw(nameof(weight), $"weight is [{weight.GetLength(0)}, {weight.GetLength(1)}] but the plan is for [{plan.NumLayers}, {plan.NumLogicalExperts}].");
        }

        return Analyze(MatrixMarshal.AsSpan(weight), plan.NumLayers, plan.PhysicalToLogicalSpan, plan.NumGpus, plan.NumNodes);
    }
}
