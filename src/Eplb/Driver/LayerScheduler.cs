namespace Eplb;

/// <summary>Runs a placer over every layer: on the calling thread, or in blocks of layers on pool threads.</summary>
/// <remarks>
/// Layers are independent and write disjoint rows, so the blocks may run in any order on any thread: the plan is
/// the same. Each block gets a placer of its own (<see cref="ILayerPlacer{TSelf}.Create"/>), with its thread's scratch.
/// </remarks>
internal static class LayerScheduler
{
    /// <summary>Blocks per thread: enough to even out layers of unequal cost, few enough to keep overhead low.</summary>
    private const int BlocksPerThread = 4;

    /// <summary>Places every layer of <paramref name="weight"/> into the plan's rows.</summary>
    public static void PlaceLayers<TPlacer>(ReadOnlySpan<float> weight, in RebalanceShape shape, RebalanceOptions options,
        Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount)
        where TPlacer : struct, ILayerPlacer<TPlacer>
    {
        int degree = options.EffectiveDegree(shape.Layers);
        if (degree > 1)
        {
            PlaceInParallel<TPlacer>(weight, shape, options, physicalToLogical, replicaRank, logicalReplicaCount, degree);
        }
        else
        {
            PlaceBlock<TPlacer>(weight, shape, options, physicalToLogical, replicaRank, logicalReplicaCount, 0, shape.Layers);
        }
    }

    /// <summary>How many blocks <paramref name="layers"/> are cut into for <paramref name="degree"/> threads: at least one, at most one per layer.</summary>
    internal static int BlockCount(int layers, int degree) => (int)Math.Clamp((long)BlocksPerThread * degree, 1, layers);

    /// <summary>The first layer of block <paramref name="block"/> of <paramref name="blocks"/>; block <c>b</c> ends where <c>b + 1</c> starts.</summary>
    internal static int BlockStart(int layers, int blocks, int block) => (int)((long)layers * block / blocks);

    private static void PlaceBlock<TPlacer>(ReadOnlySpan<float> weight, in RebalanceShape shape, RebalanceOptions options,
        Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount, int firstLayer, int endLayer)
        where TPlacer : struct, ILayerPlacer<TPlacer>
    {
        using TPlacer placer = TPlacer.Create(shape, options);
        int e = shape.Experts, p = shape.Replicas;
        for (int layer = firstLayer; layer < endLayer; layer++)
        {
            var plan = new LayerPlan(physicalToLogical.Slice(layer * p, p), replicaRank.Slice(layer * p, p), logicalReplicaCount.Slice(layer * e, e));
            placer.PlaceLayer(layer, weight.Slice(layer * e, e), plan);
        }
    }

    // Spans cannot enter a lambda: the buffers are pinned for the call and passed as addresses. Parallel.For allocates
    // a little per call (its options, closure and tasks); RebalanceOptions says so.
    private static unsafe void PlaceInParallel<TPlacer>(ReadOnlySpan<float> weight, RebalanceShape shape, RebalanceOptions options,
        Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount, int degree)
        where TPlacer : struct, ILayerPlacer<TPlacer>
    {
        fixed (float* w = weight)
        fixed (int* p2l = physicalToLogical, rank = replicaRank, count = logicalReplicaCount)
        {
            nint wAddress = (nint)w, p2lAddress = (nint)p2l, rankAddress = (nint)rank, countAddress = (nint)count;
            int layers = shape.Layers, blocks = BlockCount(layers, degree);
            int slots = shape.Slots, entries = shape.Entries;
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = degree }, block =>
            {
                PlaceBlock<TPlacer>(new ReadOnlySpan<float>((void*)wAddress, entries), shape, options,
                    new Span<int>((void*)p2lAddress, slots), new Span<int>((void*)rankAddress, slots), new Span<int>((void*)countAddress, entries),
                    BlockStart(layers, blocks, block), BlockStart(layers, blocks, block + 1));
            });
        }
    }
}
