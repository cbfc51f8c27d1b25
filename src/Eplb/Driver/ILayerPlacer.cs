namespace Eplb;

/// <summary>
/// The placement of one layer: what an algorithm supplies to the rebalance driver.
/// </summary>
/// <remarks>
/// <para>
/// The driver (<see cref="RebalanceDriver"/>) owns everything every algorithm shares: validation, reading tensor
/// spans as rows, scheduling layers across threads, staging for the <c>Try</c> overloads, the <c>log2phy</c>
/// scatter and the plan. A placer owns the placement of a layer: given its loads, it fills the layer's
/// <c>phy2log</c> row, each slot's replica rank and each expert's replica count (<see cref="LayerPlan"/>).
/// </para>
/// <para>
/// Placers are structs with static abstract members, and the driver is generic over them, so the JIT compiles the
/// driver once per placer with the calls direct and inlinable. One placer serves one thread's share of the layers
/// of one call: <see cref="Create"/> gives it its scratch and <see cref="IDisposable.Dispose"/> hands it back. A
/// placer may use its scratch across layers but must not let a layer's result depend on the layers placed before
/// it, nor on the thread: a plan is a function of its inputs and options only.
/// </para>
/// </remarks>
/// <typeparam name="TSelf">The placer itself.</typeparam>
internal interface ILayerPlacer<TSelf> : IDisposable
    where TSelf : struct, ILayerPlacer<TSelf>
{
    /// <summary>A placer for layers of <paramref name="shape"/>, with scratch for one thread.</summary>
    static abstract TSelf Create(in RebalanceShape shape, RebalanceOptions options);

    /// <summary>Places layer <paramref name="layer"/>, whose loads are <paramref name="weight"/>, into <paramref name="plan"/>.</summary>
    void PlaceLayer(int layer, ReadOnlySpan<float> weight, in LayerPlan plan);
}
