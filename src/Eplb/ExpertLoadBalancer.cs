using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

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
/// Unlike the reference, NaN, infinite and negative loads are rejected rather than silently planned.
/// All methods are thread-safe.
/// </para>
/// </remarks>
public static class ExpertLoadBalancer
{
    /// <summary>Computes a placement for <c>[layers, logicalExperts]</c> loads held in a tensor span.</summary>
    /// <param name="weight">Loads (token counts, say), <c>[layers, logicalExperts]</c>; any strides.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="options">How to run (threads); <see langword="null"/> for <see cref="RebalanceOptions.Default"/>. Never changes the plan.</param>
    /// <returns>The plan: <c>phy2log</c>, <c>log2phy</c> and <c>logcnt</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is not two-dimensional.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has no layers or no experts.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    /// <exception cref="ArgumentException">The plan's tensors would exceed the largest array .NET can allocate.</exception>
    public static RebalancePlan RebalanceExperts(ReadOnlyTensorSpan<float> weight, int numReplicas, int numGroups, int numNodes, int numGpus, RebalanceOptions? options = null)
    {
        float[]? rented = null;
        try
        {
            ReadOnlySpan<float> rows = GetRows(weight, out int numLayers, ref rented);
            return RebalanceExperts(rows, numLayers, numReplicas, numGroups, numNodes, numGpus, options);
        }
        finally
        {
            ReturnRented(rented);
        }
    }

    /// <summary>Computes a placement for a rectangular array of loads, <c>[layers, logicalExperts]</c>.</summary>
    /// <param name="weight">Loads (token counts, say), <c>[layers, logicalExperts]</c>.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="options">How to run (threads); <see langword="null"/> for <see cref="RebalanceOptions.Default"/>. Never changes the plan.</param>
    /// <returns>The plan: <c>phy2log</c>, <c>log2phy</c> and <c>logcnt</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has no layers or no experts.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    /// <exception cref="ArgumentException">The plan's tensors would exceed the largest array .NET can allocate.</exception>
    public static RebalancePlan RebalanceExperts(float[,] weight, int numReplicas, int numGroups, int numNodes, int numGpus, RebalanceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ThrowHelper.ThrowIfEmpty(weight.GetLength(0), nameof(weight));
        return RebalanceExperts(MatrixMarshal.AsSpan(weight), weight.GetLength(0), numReplicas, numGroups, numNodes, numGpus, options);
    }

    /// <summary>Computes a placement for row-major loads, <c>[numLayers, logicalExperts]</c> flattened into one span.</summary>
    /// <param name="weight">Loads, row-major: layer <c>l</c>'s experts are <c>weight[l*E .. l*E+E-1]</c>.</param>
    /// <param name="numLayers">The number of layers; the expert count is <c>weight.Length / numLayers</c>.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="options">How to run (threads); <see langword="null"/> for <see cref="RebalanceOptions.Default"/>. Never changes the plan.</param>
    /// <returns>The plan: <c>phy2log</c>, <c>log2phy</c> and <c>logcnt</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numLayers"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="numLayers"/> does not divide the length of <paramref name="weight"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    /// <exception cref="ArgumentException">The plan's tensors would exceed the largest array .NET can allocate.</exception>
    public static RebalancePlan RebalanceExperts(ReadOnlySpan<float> weight, int numLayers, int numReplicas, int numGroups, int numNodes, int numGpus, RebalanceOptions? options = null)
    {
        RebalanceShape shape = Validate(weight, numLayers, numReplicas, numGroups, numNodes, numGpus);
        int slots = shape.Layers * shape.Replicas;
        int[] physicalToLogical = GC.AllocateUninitializedArray<int>(slots);
        int[] logicalReplicaCount = GC.AllocateUninitializedArray<int>(weight.Length);
        int[] ranks = ArrayPool<int>.Shared.Rent(slots);
        try
        {
            int maxReplicaCount = Rebalance(weight, shape, physicalToLogical, ranks, logicalReplicaCount, options);

            // The last dimension is known only now; the replica counts make this overflow implausible, not impossible.
            ThrowHelper.ThrowIfProductTooLarge(weight.Length, maxReplicaCount, nameof(weight));
            int[] logicalToPhysical = GC.AllocateUninitializedArray<int>(weight.Length * maxReplicaCount);
            FillLogicalToPhysical(physicalToLogical, ranks, shape, maxReplicaCount, logicalToPhysical);
            return new RebalancePlan(shape.Layers, shape.Experts, shape.Replicas, maxReplicaCount, shape.Policy,
                physicalToLogical, logicalToPhysical, logicalReplicaCount);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ranks);
        }
    }

    /// <summary>
    /// Computes a placement into caller-provided buffers, allocating nothing in steady state.
    /// </summary>
    /// <param name="weight">Loads, <c>[layers, logicalExperts]</c>; any strides.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="physicalToLogical">Receives <c>phy2log</c>, <c>[layers, numReplicas]</c> row-major.</param>
    /// <param name="logicalToPhysical">
    /// Receives <c>log2phy</c>, densely as <c>[layers, logicalExperts, maxReplicaCount]</c>, <c>-1</c> padded. Its needed
    /// size is known only after the plan is made; <c>layers * logicalExperts * (numReplicas - logicalExperts + 1)</c>
    /// always suffices.
    /// </param>
    /// <param name="logicalReplicaCount">Receives <c>logcnt</c>, <c>[layers, logicalExperts]</c> row-major.</param>
    /// <param name="maxReplicaCount">The last dimension of <c>log2phy</c>, or 0 when the method returns <see langword="false"/>.</param>
    /// <param name="options">How to run (threads); <see langword="null"/> for <see cref="RebalanceOptions.Default"/>. Never changes the plan.</param>
    /// <returns><see langword="false"/>, with nothing written, when a destination is too small.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is not two-dimensional.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has no layers or no experts.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    public static bool TryRebalanceExperts(ReadOnlyTensorSpan<float> weight, int numReplicas, int numGroups, int numNodes, int numGpus,
        Span<int> physicalToLogical, Span<int> logicalToPhysical, Span<int> logicalReplicaCount, out int maxReplicaCount, RebalanceOptions? options = null)
    {
        float[]? rented = null;
        try
        {
            ReadOnlySpan<float> rows = GetRows(weight, out int numLayers, ref rented);
            return TryRebalanceExperts(rows, numLayers, numReplicas, numGroups, numNodes, numGpus,
                physicalToLogical, logicalToPhysical, logicalReplicaCount, out maxReplicaCount, options);
        }
        finally
        {
            ReturnRented(rented);
        }
    }

    /// <summary>
    /// Computes a placement for row-major loads into caller-provided buffers, allocating nothing in steady state.
    /// </summary>
    /// <param name="weight">Loads, row-major: layer <c>l</c>'s experts are <c>weight[l*E .. l*E+E-1]</c>.</param>
    /// <param name="numLayers">The number of layers; the expert count is <c>weight.Length / numLayers</c>.</param>
    /// <param name="numReplicas">Physical expert slots per layer (<c>num_replicas</c>): at least the expert count, a multiple of <paramref name="numGpus"/>.</param>
    /// <param name="numGroups">Expert groups (<c>num_groups</c>); under the hierarchical policy it must divide the expert count.</param>
    /// <param name="numNodes">Server nodes (<c>num_nodes</c>).</param>
    /// <param name="numGpus">GPUs in all (<c>num_gpus</c>): a multiple of <paramref name="numNodes"/>.</param>
    /// <param name="physicalToLogical">Receives <c>phy2log</c>, <c>[layers, numReplicas]</c> row-major.</param>
    /// <param name="logicalToPhysical">
    /// Receives <c>log2phy</c>, densely as <c>[layers, logicalExperts, maxReplicaCount]</c>, <c>-1</c> padded;
    /// <c>layers * logicalExperts * (numReplicas - logicalExperts + 1)</c> always suffices.
    /// </param>
    /// <param name="logicalReplicaCount">Receives <c>logcnt</c>, <c>[layers, logicalExperts]</c> row-major.</param>
    /// <param name="maxReplicaCount">The last dimension of <c>log2phy</c>, or 0 when the method returns <see langword="false"/>.</param>
    /// <param name="options">How to run (threads); <see langword="null"/> for <see cref="RebalanceOptions.Default"/>. Never changes the plan.</param>
    /// <returns><see langword="false"/>, with nothing written, when a destination is too small.</returns>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numLayers"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="numLayers"/> does not divide the length of <paramref name="weight"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative load.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/>, <paramref name="numGroups"/>, <paramref name="numNodes"/> or <paramref name="numGpus"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numReplicas"/> is smaller than the number of logical experts.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGpus"/> is not a multiple of <paramref name="numNodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numReplicas"/> is not a multiple of <paramref name="numGpus"/>.</exception>
    /// <exception cref="ArgumentException">Under the hierarchical policy, <paramref name="numGroups"/> does not divide the number of logical experts.</exception>
    public static bool TryRebalanceExperts(ReadOnlySpan<float> weight, int numLayers, int numReplicas, int numGroups, int numNodes, int numGpus,
        Span<int> physicalToLogical, Span<int> logicalToPhysical, Span<int> logicalReplicaCount, out int maxReplicaCount, RebalanceOptions? options = null)
    {
        RebalanceShape shape = Validate(weight, numLayers, numReplicas, numGroups, numNodes, numGpus);
        maxReplicaCount = 0;
        int slots = shape.Layers * shape.Replicas;
        if (physicalToLogical.Length < slots || logicalReplicaCount.Length < weight.Length)
        {
            return false;
        }

        // A log2phy buffer of worst-case size cannot turn out too small, so the plan goes straight into the
        // destinations; otherwise it is staged, because a failed call must write nothing.
        long worstCase = (long)weight.Length * (shape.Replicas - shape.Experts + 1);
        bool staged = logicalToPhysical.Length < worstCase;
        int[] ranks = ArrayPool<int>.Shared.Rent(slots);
        int[]? stagedSlots = staged ? ArrayPool<int>.Shared.Rent(slots) : null;
        int[]? stagedCounts = staged ? ArrayPool<int>.Shared.Rent(weight.Length) : null;
        try
        {
            Span<int> p2l = staged ? stagedSlots.AsSpan(0, slots) : physicalToLogical.Slice(0, slots);
            Span<int> counts = staged ? stagedCounts.AsSpan(0, weight.Length) : logicalReplicaCount.Slice(0, weight.Length);
            int max = Rebalance(weight, shape, p2l, ranks, counts, options);
            if ((long)weight.Length * max > logicalToPhysical.Length)
            {
                return false;
            }

            if (staged)
            {
                p2l.CopyTo(physicalToLogical);
                counts.CopyTo(logicalReplicaCount);
            }

            FillLogicalToPhysical(p2l, ranks, shape, max, logicalToPhysical.Slice(0, weight.Length * max));
            maxReplicaCount = max;
            return true;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ranks);
            ReturnRented(stagedSlots);
            ReturnRented(stagedCounts);
        }
    }

    private static RebalanceShape Validate(ReadOnlySpan<float> weight, int numLayers, int numReplicas, int numGroups, int numNodes, int numGpus)
    {
        ThrowHelper.ThrowIfEmpty(weight.Length, nameof(weight));
        ThrowHelper.ThrowIfNotPositive(numLayers, nameof(numLayers));
        ThrowHelper.ThrowIfNotMultiple(weight.Length, numLayers, nameof(numLayers), "the length of weight");
        int experts = weight.Length / numLayers;
        ThrowHelper.ThrowIfNotPositive(numReplicas, nameof(numReplicas));
        ThrowHelper.ThrowIfNotPositive(numGroups, nameof(numGroups));
        ThrowHelper.ThrowIfNotPositive(numNodes, nameof(numNodes));
        ThrowHelper.ThrowIfNotPositive(numGpus, nameof(numGpus));
        ThrowHelper.ThrowIfLess(numReplicas, experts, nameof(numReplicas), "the number of logical experts");
        ThrowHelper.ThrowIfNotMultipleOf(numGpus, numNodes, nameof(numGpus), nameof(numNodes));
        ThrowHelper.ThrowIfNotMultipleOf(numReplicas, numGpus, nameof(numReplicas), nameof(numGpus));
        if (numGroups % numNodes == 0 && experts % numGroups != 0)
        {
            ThrowHelper.Throw(nameof(numGroups),
                $"numGroups ({numGroups}) must divide the number of logical experts ({experts}) under the hierarchical policy, " +
                $"which applies because numNodes ({numNodes}) divides numGroups.");
        }

        ThrowHelper.ThrowIfProductTooLarge(numLayers, numReplicas, nameof(numReplicas));
        ThrowHelper.ThrowIfInvalidLoads(weight, experts, nameof(weight));
        return new RebalanceShape(numLayers, experts, numReplicas, numGroups, numNodes, numGpus);
    }

    /// <summary>Runs every layer; returns the largest replica count (<c>maxlogcnt</c>).</summary>
    private static int Rebalance(ReadOnlySpan<float> weight, in RebalanceShape shape, Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount, RebalanceOptions? options)
    {
        int degree = (options ?? RebalanceOptions.Default).EffectiveDegree(shape.Layers);
        if (degree > 1)
        {
            RebalanceInParallel(weight, shape, physicalToLogical, replicaRank, logicalReplicaCount, degree);
        }
        else
        {
            RebalanceLayers(weight, shape, physicalToLogical, replicaRank, logicalReplicaCount, 0, shape.Layers);
        }

        return TensorPrimitives.Max<int>(logicalReplicaCount.Slice(0, shape.Layers * shape.Experts));
    }

    private static void RebalanceLayers(ReadOnlySpan<float> weight, in RebalanceShape shape, Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount, int firstLayer, int endLayer)
    {
        RebalanceWorkspace workspace = RebalanceWorkspace.For(shape);
        int e = shape.Experts, p = shape.Replicas;
        for (int layer = firstLayer; layer < endLayer; layer++)
        {
            HierarchicalPolicy.RebalanceLayer(weight.Slice(layer * e, e), shape,
                physicalToLogical.Slice(layer * p, p), replicaRank.Slice(layer * p, p), logicalReplicaCount.Slice(layer * e, e), workspace);
        }
    }

    // Layers are independent and write disjoint rows, so blocks of layers run on pool threads, each with its
    // own thread-local workspace. Spans cannot enter a lambda: the buffers are pinned and passed as addresses.
    private static unsafe void RebalanceInParallel(ReadOnlySpan<float> weight, RebalanceShape shape, Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount, int degree)
    {
        fixed (float* w = weight)
        fixed (int* p2l = physicalToLogical, rank = replicaRank, count = logicalReplicaCount)
        {
            nint wAddress = (nint)w, p2lAddress = (nint)p2l, rankAddress = (nint)rank, countAddress = (nint)count;
            int layers = shape.Layers, blocks = Math.Min(layers, degree * 4);
            int slots = layers * shape.Replicas, entries = layers * shape.Experts;
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = degree }, block =>
            {
                RebalanceLayers(new ReadOnlySpan<float>((void*)wAddress, entries), shape,
                    new Span<int>((void*)p2lAddress, slots), new Span<int>((void*)rankAddress, slots), new Span<int>((void*)countAddress, entries),
                    (int)((long)layers * block / blocks), (int)((long)layers * (block + 1) / blocks));
            });
        }
    }

    // log2phy[l, e, r] is the slot holding replica r of expert e: a scatter of slot ids, as the reference does.
    // Each layer's block is filled with -1 just before its scatter, while it is still in L1.
    private static void FillLogicalToPhysical(ReadOnlySpan<int> physicalToLogical, ReadOnlySpan<int> replicaRank, in RebalanceShape shape, int maxReplicaCount, Span<int> logicalToPhysical)
    {
        int e = shape.Experts, p = shape.Replicas;
        for (int layer = 0; layer < shape.Layers; layer++)
        {
            Span<int> layerMap = logicalToPhysical.Slice(layer * e * maxReplicaCount, e * maxReplicaCount);
            layerMap.Fill(-1);
            ReadOnlySpan<int> slots = physicalToLogical.Slice(layer * p, p);
            ReadOnlySpan<int> ranks = replicaRank.Slice(layer * p, p);
            for (int slot = 0; slot < slots.Length; slot++)
            {
                layerMap[(slots[slot] * maxReplicaCount) + ranks[slot]] = slot;
            }
        }
    }

    // A tensor span's rows as one row-major span: a view when it is laid out densely, else a pooled copy.
    private static ReadOnlySpan<float> GetRows(in ReadOnlyTensorSpan<float> weight, out int numLayers, ref float[]? rented)
    {
        if (weight.Rank != 2)
        {
            ThrowHelper.Throw(nameof(weight), $"must be two-dimensional [layers, logicalExperts], but its rank is {weight.Rank}.");
        }

        nint layers = weight.Lengths[0], experts = weight.Lengths[1];
        ThrowHelper.ThrowIfEmpty((int)Math.Min(layers * experts, 1), nameof(weight));
        ThrowHelper.ThrowIfProductTooLarge(layers, experts, nameof(weight));
        numLayers = (int)layers;
        int length = (int)(layers * experts);
        ReadOnlySpan<nint> strides = weight.Strides;
        bool rowMajor = (strides[1] == 1 || experts == 1) && (strides[0] == experts || layers == 1);
        if (rowMajor)
        {
            return MemoryMarshal.CreateReadOnlySpan(in weight.GetPinnableReference(), length);
        }

        rented = ArrayPool<float>.Shared.Rent(length);
        weight.FlattenTo(rented);
        return rented.AsSpan(0, length);
    }

    private static void ReturnRented<T>(T[]? array)
    {
        if (array is not null)
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }
}
