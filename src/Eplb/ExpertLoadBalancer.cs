using System.Numerics.Tensors;

namespace Eplb;

/// <summary>
/// The Expert Parallelism Load Balancer: replicates hot experts into spare physical slots and packs the replicas
/// onto GPUs so that every GPU carries about the same load. A port of <c>rebalance_experts</c> from DeepSeek's
/// <c>eplb.py</c> that returns exactly what it returns, ties included.
/// </summary>
/// <remarks>
/// <para>
/// Names map to the reference as follows: <c>weight</c> ↔ <c>weight</c>, <c>numReplicas</c> ↔ <c>num_replicas</c>,
/// <c>numGroups</c> ↔ <c>num_groups</c>, <c>numNodes</c> ↔ <c>num_nodes</c>, <c>numGpus</c> ↔ <c>num_gpus</c>;
/// <see cref="RebalancePlan.PhysicalToLogical"/> ↔ <c>phy2log</c>, <see cref="RebalancePlan.LogicalToPhysical"/> ↔
/// <c>log2phy</c>, <see cref="RebalancePlan.LogicalReplicaCount"/> ↔ <c>logcnt</c>.
/// </para>
/// <para>
/// Policy: when <c>numNodes</c> divides <c>numGroups</c> the hierarchical procedure runs (groups packed onto
/// nodes, replication and GPU packing within each node); otherwise the global one (the same procedure with one
/// group and one node). All load arithmetic is <see cref="float"/>, as in the reference.
/// </para>
/// <para>
/// Unlike the reference, NaN, infinite and negative loads are rejected rather than silently planned, and sizes
/// beyond <see cref="RebalanceLimits"/> are rejected before any work. All methods are thread-safe.
/// </para>
/// </remarks>
public static class ExpertLoadBalancer
{
    /// <summary>Computes a placement for <c>[layers, logicalExperts]</c> loads held in a tensor span.</summary>
    /// <param name="weight">Loads (token counts, say), <c>[layers, logicalExperts]</c>; any strides.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>, at most <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="options">What to plan and how to run; <see langword="null"/> for <see cref="RebalanceOptions.Default"/>.</param>
    /// <returns>The plan: <c>phy2log</c>, <c>log2phy</c> and <c>logcnt</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is not two-dimensional.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has no layers or no experts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is greater than <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    /// <exception cref="ArgumentException">Layers × <paramref name="numReplicas"/> exceeds <see cref="Array.MaxLength"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> names an unavailable GPU outside <c>[0, numGpus)</c> or twice, or leaves fewer healthy slots than logical experts.</exception>
    /// <exception cref="ArgumentException">The plan's <c>log2phy</c> would exceed the largest array .NET can allocate.</exception>
    public static RebalancePlan RebalanceExperts(ReadOnlyTensorSpan<float> weight, int numReplicas, int numGroups, int numNodes, int numGpus, RebalanceOptions? options = null)
    {
        (int layers, int experts) = LoadRows.ShapeOf(weight);
        options ??= RebalanceOptions.Default;
        RebalanceShape shape = RebalanceShape.Validate(layers, experts, numReplicas, numGroups, numNodes, numGpus)
            .WithUnavailableGpus(options.UnavailableGpus, nameof(options));
        float[]? copy = null;
        try
        {
            ReadOnlySpan<float> rows = LoadRows.Read(weight, ref copy);
            ThrowHelper.ThrowIfInvalidLoads(rows, experts, nameof(weight));
            return Rebalance(rows, shape, options);
        }
        finally
        {
            Scratch.Return(copy);
        }
    }

    /// <summary>Computes a placement for a rectangular array of loads, <c>[layers, logicalExperts]</c>.</summary>
    /// <param name="weight">Loads (token counts, say), <c>[layers, logicalExperts]</c>.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>, at most <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="options">What to plan and how to run; <see langword="null"/> for <see cref="RebalanceOptions.Default"/>.</param>
    /// <returns>The plan: <c>phy2log</c>, <c>log2phy</c> and <c>logcnt</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has no layers or no experts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is greater than <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    /// <exception cref="ArgumentException">Layers × <paramref name="numReplicas"/> exceeds <see cref="Array.MaxLength"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> names an unavailable GPU outside <c>[0, numGpus)</c> or twice, or leaves fewer healthy slots than logical experts.</exception>
    /// <exception cref="ArgumentException">The plan's <c>log2phy</c> would exceed the largest array .NET can allocate.</exception>
    public static RebalancePlan RebalanceExperts(float[,] weight, int numReplicas, int numGroups, int numNodes, int numGpus, RebalanceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ThrowHelper.ThrowIfEmpty(weight.GetLength(0), nameof(weight));
        return RebalanceExperts(MatrixMarshal.AsSpan(weight), weight.GetLength(0), numReplicas, numGroups, numNodes, numGpus, options);
    }

    /// <summary>Computes a placement for row-major loads, <c>[numLayers, logicalExperts]</c> flattened into one span.</summary>
    /// <param name="weight">Loads, row-major: layer <c>l</c>'s experts are <c>weight[l*E .. l*E+E-1]</c>.</param>
    /// <param name="numLayers">The number of layers; the expert count is <c>weight.Length / numLayers</c>.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>, at most <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="options">What to plan and how to run; <see langword="null"/> for <see cref="RebalanceOptions.Default"/>.</param>
    /// <returns>The plan: <c>phy2log</c>, <c>log2phy</c> and <c>logcnt</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numLayers"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="numLayers"/> does not divide the length of <paramref name="weight"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is greater than <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    /// <exception cref="ArgumentException">Layers × <paramref name="numReplicas"/> exceeds <see cref="Array.MaxLength"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> names an unavailable GPU outside <c>[0, numGpus)</c> or twice, or leaves fewer healthy slots than logical experts.</exception>
    /// <exception cref="ArgumentException">The plan's <c>log2phy</c> would exceed the largest array .NET can allocate.</exception>
    public static RebalancePlan RebalanceExperts(ReadOnlySpan<float> weight, int numLayers, int numReplicas, int numGroups, int numNodes, int numGpus, RebalanceOptions? options = null)
    {
        options ??= RebalanceOptions.Default;
        RebalanceShape shape = ValidateShape(weight, numLayers, numReplicas, numGroups, numNodes, numGpus)
            .WithUnavailableGpus(options.UnavailableGpus, nameof(options));
        ThrowHelper.ThrowIfInvalidLoads(weight, shape.Experts, nameof(weight));
        return Rebalance(weight, shape, options);
    }

    /// <summary>
    /// Computes a placement into caller-provided buffers, allocating nothing in steady state (see
    /// <see cref="RebalanceOptions.MaxDegreeOfParallelism"/> for the one exception).
    /// </summary>
    /// <param name="weight">Loads, <c>[layers, logicalExperts]</c>; any strides.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>, at most <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="physicalToLogical">Receives <c>phy2log</c>, <c>[layers, numReplicas]</c> row-major.</param>
    /// <param name="logicalToPhysical">
    /// Receives <c>log2phy</c>, densely as <c>[layers, logicalExperts, maxReplicaCount]</c>, <c>-1</c> padded. Its needed
    /// size is known only after the plan is made; <c>layers * logicalExperts * (numReplicas - logicalExperts + 1)</c>
    /// always suffices, and with a buffer that large the plan is written straight into the destinations.
    /// </param>
    /// <param name="logicalReplicaCount">Receives <c>logcnt</c>, <c>[layers, logicalExperts]</c> row-major.</param>
    /// <param name="maxReplicaCount">The last dimension of <c>log2phy</c>: the most replicas of any expert — also when the method returns <see langword="false"/>, so that a caller can size the buffer and call again.</param>
    /// <param name="options">What to plan and how to run; <see langword="null"/> for <see cref="RebalanceOptions.Default"/>.</param>
    /// <returns><see langword="false"/>, with nothing written, when a destination is too small.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is not two-dimensional.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has no layers or no experts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is greater than <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    /// <exception cref="ArgumentException">Layers × <paramref name="numReplicas"/> exceeds <see cref="Array.MaxLength"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> names an unavailable GPU outside <c>[0, numGpus)</c> or twice, or leaves fewer healthy slots than logical experts.</exception>
    /// <exception cref="ArgumentException">A destination overlaps another destination or <paramref name="weight"/>.</exception>
    public static bool TryRebalanceExperts(ReadOnlyTensorSpan<float> weight, int numReplicas, int numGroups, int numNodes, int numGpus,
        Span<int> physicalToLogical, Span<int> logicalToPhysical, Span<int> logicalReplicaCount, out int maxReplicaCount, RebalanceOptions? options = null)
    {
        (int layers, int experts) = LoadRows.ShapeOf(weight);
        options ??= RebalanceOptions.Default;
        RebalanceShape shape = RebalanceShape.Validate(layers, experts, numReplicas, numGroups, numNodes, numGpus)
            .WithUnavailableGpus(options.UnavailableGpus, nameof(options));
        ThrowIfDestinationsOverlap(physicalToLogical, logicalToPhysical, logicalReplicaCount);
        LoadRows.ThrowIfOverlapping(physicalToLogical, nameof(physicalToLogical), weight);
        LoadRows.ThrowIfOverlapping(logicalToPhysical, nameof(logicalToPhysical), weight);
        LoadRows.ThrowIfOverlapping(logicalReplicaCount, nameof(logicalReplicaCount), weight);
        float[]? copy = null;
        try
        {
            ReadOnlySpan<float> rows = LoadRows.Read(weight, ref copy);
            ThrowHelper.ThrowIfInvalidLoads(rows, experts, nameof(weight));
            return TryRebalance(rows, shape, options, physicalToLogical, logicalToPhysical, 0, logicalReplicaCount, out maxReplicaCount);
        }
        finally
        {
            Scratch.Return(copy);
        }
    }

    /// <summary>
    /// Computes a placement for row-major loads into caller-provided buffers, allocating nothing in steady state (see
    /// <see cref="RebalanceOptions.MaxDegreeOfParallelism"/> for the one exception).
    /// </summary>
    /// <param name="weight">Loads, row-major: layer <c>l</c>'s experts are <c>weight[l*E .. l*E+E-1]</c>.</param>
    /// <param name="numLayers">The number of layers; the expert count is <c>weight.Length / numLayers</c>.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>, at most <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="physicalToLogical">Receives <c>phy2log</c>, <c>[layers, numReplicas]</c> row-major.</param>
    /// <param name="logicalToPhysical">
    /// Receives <c>log2phy</c>, densely as <c>[layers, logicalExperts, maxReplicaCount]</c>, <c>-1</c> padded. Its needed
    /// size is known only after the plan is made; <c>layers * logicalExperts * (numReplicas - logicalExperts + 1)</c>
    /// always suffices, and with a buffer that large the plan is written straight into the destinations.
    /// </param>
    /// <param name="logicalReplicaCount">Receives <c>logcnt</c>, <c>[layers, logicalExperts]</c> row-major.</param>
    /// <param name="maxReplicaCount">The last dimension of <c>log2phy</c>: the most replicas of any expert — also when the method returns <see langword="false"/>, so that a caller can size the buffer and call again.</param>
    /// <param name="options">What to plan and how to run; <see langword="null"/> for <see cref="RebalanceOptions.Default"/>.</param>
    /// <returns><see langword="false"/>, with nothing written, when a destination is too small.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numLayers"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="numLayers"/> does not divide the length of <paramref name="weight"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is greater than <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    /// <exception cref="ArgumentException">Layers × <paramref name="numReplicas"/> exceeds <see cref="Array.MaxLength"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> names an unavailable GPU outside <c>[0, numGpus)</c> or twice, or leaves fewer healthy slots than logical experts.</exception>
    /// <exception cref="ArgumentException">A destination overlaps another destination or <paramref name="weight"/>.</exception>
    public static bool TryRebalanceExperts(ReadOnlySpan<float> weight, int numLayers, int numReplicas, int numGroups, int numNodes, int numGpus,
        Span<int> physicalToLogical, Span<int> logicalToPhysical, Span<int> logicalReplicaCount, out int maxReplicaCount, RebalanceOptions? options = null)
    {
        options ??= RebalanceOptions.Default;
        RebalanceShape shape = ValidateShape(weight, numLayers, numReplicas, numGroups, numNodes, numGpus)
            .WithUnavailableGpus(options.UnavailableGpus, nameof(options));
        ThrowIfDestinationsOverlap(physicalToLogical, logicalToPhysical, logicalReplicaCount);
        ThrowHelper.ThrowIfOverlapping(physicalToLogical, nameof(physicalToLogical), weight, nameof(weight));
        ThrowHelper.ThrowIfOverlapping(logicalToPhysical, nameof(logicalToPhysical), weight, nameof(weight));
        ThrowHelper.ThrowIfOverlapping(logicalReplicaCount, nameof(logicalReplicaCount), weight, nameof(weight));
        ThrowHelper.ThrowIfInvalidLoads(weight, shape.Experts, nameof(weight));
        return TryRebalance(weight, shape, options, physicalToLogical, logicalToPhysical, 0, logicalReplicaCount, out maxReplicaCount);
    }

    /// <summary>
    /// Computes a placement into caller-provided buffers with <c>log2phy</c> at a fixed width, as servers keep it so
    /// that their device buffers never change shape (vLLM: <c>[layers, experts, num_redundant + 1]</c>); allocates
    /// nothing in steady state.
    /// </summary>
    /// <param name="weight">Loads, row-major: layer <c>l</c>'s experts are <c>weight[l*E .. l*E+E-1]</c>.</param>
    /// <param name="numLayers">The number of layers; the expert count is <c>weight.Length / numLayers</c>.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>, at most <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="physicalToLogical">Receives <c>phy2log</c>, <c>[layers, numReplicas]</c> row-major.</param>
    /// <param name="logicalToPhysical">
    /// Receives <c>log2phy</c> as <c>[layers, logicalExperts, logicalToPhysicalWidth]</c>, <c>-1</c> padded: at least
    /// <c>layers * logicalExperts * logicalToPhysicalWidth</c> long.
    /// </param>
    /// <param name="logicalToPhysicalWidth">
    /// The last dimension of <c>log2phy</c>. <c>numReplicas - logicalExperts + 1</c> (the redundant slots plus one)
    /// always suffices; a narrower width works while no expert gets more replicas than it holds.
    /// </param>
    /// <param name="logicalReplicaCount">Receives <c>logcnt</c>, <c>[layers, logicalExperts]</c> row-major.</param>
    /// <param name="maxReplicaCount">The most replicas of any expert: the width the plan needs — also when the method returns <see langword="false"/>.</param>
    /// <param name="options">What to plan and how to run; <see langword="null"/> for <see cref="RebalanceOptions.Default"/>.</param>
    /// <returns><see langword="false"/>, with nothing written, when a destination is too small or the width too narrow for the plan.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numLayers"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="numLayers"/> does not divide the length of <paramref name="weight"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is greater than <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    /// <exception cref="ArgumentException">Layers × <paramref name="numReplicas"/> exceeds <see cref="Array.MaxLength"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="logicalToPhysicalWidth"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> names an unavailable GPU outside <c>[0, numGpus)</c> or twice, or leaves fewer healthy slots than logical experts.</exception>
    /// <exception cref="ArgumentException">A destination overlaps another destination or <paramref name="weight"/>.</exception>
    public static bool TryRebalanceExperts(ReadOnlySpan<float> weight, int numLayers, int numReplicas, int numGroups, int numNodes, int numGpus,
        Span<int> physicalToLogical, Span<int> logicalToPhysical, int logicalToPhysicalWidth, Span<int> logicalReplicaCount, out int maxReplicaCount,
        RebalanceOptions? options = null)
    {
        options ??= RebalanceOptions.Default;
        RebalanceShape shape = ValidateShape(weight, numLayers, numReplicas, numGroups, numNodes, numGpus)
            .WithUnavailableGpus(options.UnavailableGpus, nameof(options));
        ThrowHelper.ThrowIfNotPositive(logicalToPhysicalWidth, nameof(logicalToPhysicalWidth));
        ThrowIfDestinationsOverlap(physicalToLogical, logicalToPhysical, logicalReplicaCount);
        ThrowHelper.ThrowIfOverlapping(physicalToLogical, nameof(physicalToLogical), weight, nameof(weight));
        ThrowHelper.ThrowIfOverlapping(logicalToPhysical, nameof(logicalToPhysical), weight, nameof(weight));
        ThrowHelper.ThrowIfOverlapping(logicalReplicaCount, nameof(logicalReplicaCount), weight, nameof(weight));
        ThrowHelper.ThrowIfInvalidLoads(weight, shape.Experts, nameof(weight));
        return TryRebalance(weight, shape, options, physicalToLogical, logicalToPhysical, logicalToPhysicalWidth, logicalReplicaCount, out maxReplicaCount);
    }

    // The one place options choose the placer, and through its type the sort that breaks ties: each combination is
    // a generic instantiation the JIT compiles on its own.
    private static RebalancePlan Rebalance(ReadOnlySpan<float> rows, in RebalanceShape shape, RebalanceOptions options) => (options.Algorithm, options.TieOrder) switch
    {
        (RebalanceAlgorithm.Refined, TieOrder.X86SimdSortAvx512) => RebalanceDriver.Rebalance<RefinedPlacer<X86SimdSortAvx512>>(rows, shape, options),
        (RebalanceAlgorithm.Refined, TieOrder.X86SimdSortAvx2) => RebalanceDriver.Rebalance<RefinedPlacer<X86SimdSortAvx2>>(rows, shape, options),
        (RebalanceAlgorithm.Refined, _) => RebalanceDriver.Rebalance<RefinedPlacer<LibStdCxxSort>>(rows, shape, options),
        (_, TieOrder.X86SimdSortAvx512) => RebalanceDriver.Rebalance<ReferencePlacer<X86SimdSortAvx512>>(rows, shape, options),
        (_, TieOrder.X86SimdSortAvx2) => RebalanceDriver.Rebalance<ReferencePlacer<X86SimdSortAvx2>>(rows, shape, options),
        _ => RebalanceDriver.Rebalance<ReferencePlacer<LibStdCxxSort>>(rows, shape, options),
    };

    private static bool TryRebalance(ReadOnlySpan<float> rows, in RebalanceShape shape, RebalanceOptions options,
        Span<int> physicalToLogical, Span<int> logicalToPhysical, int width, Span<int> logicalReplicaCount, out int maxReplicaCount) => (options.Algorithm, options.TieOrder) switch
    {
        (RebalanceAlgorithm.Refined, TieOrder.X86SimdSortAvx512) => RebalanceDriver.TryRebalance<RefinedPlacer<X86SimdSortAvx512>>(rows, shape, options, physicalToLogical, logicalToPhysical, width, logicalReplicaCount, out maxReplicaCount),
        (RebalanceAlgorithm.Refined, TieOrder.X86SimdSortAvx2) => RebalanceDriver.TryRebalance<RefinedPlacer<X86SimdSortAvx2>>(rows, shape, options, physicalToLogical, logicalToPhysical, width, logicalReplicaCount, out maxReplicaCount),
        (RebalanceAlgorithm.Refined, _) => RebalanceDriver.TryRebalance<RefinedPlacer<LibStdCxxSort>>(rows, shape, options, physicalToLogical, logicalToPhysical, width, logicalReplicaCount, out maxReplicaCount),
        (_, TieOrder.X86SimdSortAvx512) => RebalanceDriver.TryRebalance<ReferencePlacer<X86SimdSortAvx512>>(rows, shape, options, physicalToLogical, logicalToPhysical, width, logicalReplicaCount, out maxReplicaCount),
        (_, TieOrder.X86SimdSortAvx2) => RebalanceDriver.TryRebalance<ReferencePlacer<X86SimdSortAvx2>>(rows, shape, options, physicalToLogical, logicalToPhysical, width, logicalReplicaCount, out maxReplicaCount),
        _ => RebalanceDriver.TryRebalance<ReferencePlacer<LibStdCxxSort>>(rows, shape, options, physicalToLogical, logicalToPhysical, width, logicalReplicaCount, out maxReplicaCount),
    };

    // The sizes of row-major loads; the loads themselves are checked once the destinations are.
    private static RebalanceShape ValidateShape(ReadOnlySpan<float> weight, int numLayers, int numReplicas, int numGroups, int numNodes, int numGpus)
    {
        ThrowHelper.ThrowIfEmpty(weight.Length, nameof(weight));
        ThrowHelper.ThrowIfNotPositive(numLayers, nameof(numLayers));
        ThrowHelper.ThrowIfNotMultiple(weight.Length, numLayers, nameof(numLayers), "the length of weight");
        return RebalanceShape.Validate(numLayers, weight.Length / numLayers, numReplicas, numGroups, numNodes, numGpus);
    }

    private static void ThrowIfDestinationsOverlap(Span<int> physicalToLogical, Span<int> logicalToPhysical, Span<int> logicalReplicaCount)
    {
        ThrowHelper.ThrowIfOverlapping<int, int>(logicalToPhysical, nameof(logicalToPhysical), physicalToLogical, nameof(physicalToLogical));
        ThrowHelper.ThrowIfOverlapping<int, int>(logicalReplicaCount, nameof(logicalReplicaCount), physicalToLogical, nameof(physicalToLogical));
        ThrowHelper.ThrowIfOverlapping<int, int>(logicalReplicaCount, nameof(logicalReplicaCount), logicalToPhysical, nameof(logicalToPhysical));
    }
}
