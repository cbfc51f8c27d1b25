namespace Eplb;

/// <summary>
/// The largest problems Eplb plans. Every entry point checks its arguments against these limits before it allocates
/// or computes anything, and throws an <see cref="ArgumentException"/> naming the parameter beyond them.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="MaxPhysicalExperts"/> bounds <c>num_replicas</c>, and through the rules of <c>eplb.py</c> every other
/// per-layer size: logical experts (at most the slots), GPUs (they divide the slots), nodes (they divide the GPUs),
/// expert groups under the hierarchical policy (they divide the experts), and so experts per node, slots per node
/// and slots per GPU. It is 2^24: replica counts up to it are exact in <see cref="float"/>, the type in which the
/// reference divides loads by them, and it is thousands of times the largest deployments (DeepSeek-V3 serves
/// 256 experts in 288 to 320 slots per layer). A layer this size takes about a second and a few hundred megabytes of
/// scratch.
/// </para>
/// <para>
/// The outputs must fit in .NET arrays: <c>layers × num_replicas</c> (<c>phy2log</c>) at most
/// <see cref="Array.MaxLength"/>, checked up front; for the allocating overloads also
/// <c>layers × experts × maxReplicaCount</c> (<c>log2phy</c>), whose last dimension is known only once the plan is
/// made.
/// </para>
/// <para>
/// Memory between calls: scratch is kept for reuse (per thread, and in <see cref="System.Buffers.ArrayPool{T}.Shared"/>)
/// only up to <see cref="MaxRetainedScratchBytes"/> per buffer set; larger calls allocate their scratch and leave it to
/// the garbage collector, so one huge call does not hold memory for the life of a thread.
/// </para>
/// </remarks>
public static class RebalanceLimits
{
    /// <summary>
    /// The most physical expert slots per layer (<c>num_replicas</c>), and so the most logical experts, GPUs, nodes and
    /// expert groups; also the most items per row of <see cref="BalancedPacking"/> and slots per row of
    /// <see cref="ExpertReplication"/>: 16,777,216 (2^24).
    /// </summary>
    public const int MaxPhysicalExperts = 1 << 24;

    /// <summary>
    /// The most scratch memory, in bytes, that a thread keeps for its next call, and the largest scratch array returned
    /// to the shared pool: 4 MiB. DeepSeek-V3-sized models need a few tens of kilobytes.
    /// </summary>
    public const int MaxRetainedScratchBytes = 4 << 20;
}
