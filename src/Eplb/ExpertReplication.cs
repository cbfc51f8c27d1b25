using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// Replicates logical experts into physical slots so that the largest per-replica load is as small as the greedy
/// allows: the port of <c>replicate_experts</c> in DeepSeek's <c>eplb.py</c>.
/// </summary>
/// <remarks>
/// Slots <c>0..k-1</c> hold one replica of each expert in order. Each further slot goes to the expert whose load
/// per replica, <c>w[j] / count[j]</c> computed in <see cref="float"/>, is largest; the lowest expert index on ties,
/// as <c>torch.max(dim=-1)</c> picks.
/// </remarks>
public static class ExpertReplication
{
    /// <summary>
    /// Replicates one row of experts: <c>replicate_experts</c> for a single row of its <c>[X, num_log]</c> input.
    /// </summary>
    /// <param name="weight">The load of each logical expert (<c>num_log</c> experts): finite and non-negative.</param>
    /// <param name="numPhysical">The number of physical slots (<c>num_phy</c>); at least the expert count.</param>
    /// <param name="physicalToLogical">Receives each slot's logical expert (<c>phy2log</c>); at least <paramref name="numPhysical"/> long.</param>
    /// <param name="replicaRank">Receives each slot's replica rank (<c>rank</c>); at least <paramref name="numPhysical"/> long.</param>
    /// <param name="logicalReplicaCount">Receives each expert's replica count (<c>logcnt</c>); at least the expert count.</param>
    /// <exception cref="ArgumentException"><paramref name="weight"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numPhysical"/> is smaller than the expert count.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numPhysical"/> is greater than <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</exception>
    /// <exception cref="ArgumentException">A destination is shorter than the rule above.</exception>
    /// <exception cref="ArgumentException">Two destinations overlap, or a destination overlaps <paramref name="weight"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative value.</exception>
    public static void Replicate(ReadOnlySpan<float> weight, int numPhysical, Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount)
    {
        ThrowHelper.ThrowIfEmpty(weight.Length, nameof(weight));
        ThrowHelper.ThrowIfLess(numPhysical, weight.Length, nameof(numPhysical), "the number of logical experts");
        ThrowHelper.ThrowIfTooManySlots(numPhysical, nameof(numPhysical));
        ThrowHelper.ThrowIfDestinationTooShort(physicalToLogical.Length, numPhysical, nameof(physicalToLogical));
        ThrowHelper.ThrowIfDestinationTooShort(replicaRank.Length, numPhysical, nameof(replicaRank));
        ThrowHelper.ThrowIfDestinationTooShort(logicalReplicaCount.Length, weight.Length, nameof(logicalReplicaCount));
        ThrowHelper.ThrowIfOverlapping(physicalToLogical, nameof(physicalToLogical), weight, nameof(weight));
        ThrowHelper.ThrowIfOverlapping(replicaRank, nameof(replicaRank), weight, nameof(weight));
        ThrowHelper.ThrowIfOverlapping(logicalReplicaCount, nameof(logicalReplicaCount), weight, nameof(weight));
        ThrowHelper.ThrowIfOverlapping(replicaRank, nameof(replicaRank), physicalToLogical, nameof(physicalToLogical));
        ThrowHelper.ThrowIfOverlapping(logicalReplicaCount, nameof(logicalReplicaCount), physicalToLogical, nameof(physicalToLogical));
        ThrowHelper.ThrowIfOverlapping(logicalReplicaCount, nameof(logicalReplicaCount), replicaRank, nameof(replicaRank));
        ThrowHelper.ThrowIfInvalidLoads(weight, weight.Length, nameof(weight));

        ReplicateRows(weight, weight.Length, numPhysical, physicalToLogical, replicaRank, logicalReplicaCount);
    }

    /// <summary>
    /// Replicates every row of <c>[X, num_log]</c> experts independently: <c>replicate_experts(weight, num_phy)</c>.
    /// </summary>
    /// <param name="weight">The loads, <c>[X, num_log]</c>: finite and non-negative.</param>
    /// <param name="numPhysical">The number of physical slots per row (<c>num_phy</c>); at least <c>num_log</c>.</param>
    /// <returns><c>(phy2log [X, num_phy], rank [X, num_phy], logcnt [X, num_log])</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has no rows or no columns.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numPhysical"/> is smaller than <c>num_log</c>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numPhysical"/> is greater than <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</exception>
    /// <exception cref="ArgumentException">The outputs would exceed the largest array .NET can allocate.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative value.</exception>
    public static (int[,] PhysicalToLogical, int[,] ReplicaRank, int[,] LogicalReplicaCount) Replicate(float[,] weight, int numPhysical)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int rows = weight.GetLength(0), k = weight.GetLength(1);
        ThrowHelper.ThrowIfEmpty(rows, nameof(weight));
        ThrowHelper.ThrowIfEmpty(k, nameof(weight));
        ThrowHelper.ThrowIfLess(numPhysical, k, nameof(numPhysical), "the number of logical experts");
        ThrowHelper.ThrowIfTooManySlots(numPhysical, nameof(numPhysical));
        ThrowHelper.ThrowIfProductTooLarge(rows, numPhysical, nameof(numPhysical));
        ReadOnlySpan<float> all = MatrixMarshal.AsSpan(weight);
        ThrowHelper.ThrowIfInvalidLoads(all, k, nameof(weight));

        var phy2log = new int[rows, numPhysical];
        var rank = new int[rows, numPhysical];
        var logcnt = new int[rows, k];
        ReplicateRows(all, k, numPhysical, MatrixMarshal.AsSpan(phy2log), MatrixMarshal.AsSpan(rank), MatrixMarshal.AsSpan(logcnt));
        return (phy2log, rank, logcnt);
    }

    // Validated rows of k experts each, with scratch of its own.
    private static void ReplicateRows(ReadOnlySpan<float> weight, int k, int numPhysical, Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount)
    {
        ulong[] tree = Scratch.Rent<ulong>(TournamentTree.Length(k));
        float[] upcomingShares = Scratch.Rent<float>(2 * k);
        try
        {
            for (int row = 0; row < weight.Length / k; row++)
            {
                ReplicateRow(weight.Slice(row * k, k), numPhysical, physicalToLogical.Slice(row * numPhysical, numPhysical),
                    replicaRank.Slice(row * numPhysical, numPhysical), logicalReplicaCount.Slice(row * k, k), tree, upcomingShares);
            }
        }
        finally
        {
            Scratch.Return(tree);
            Scratch.Return(upcomingShares);
        }
    }

    /// <summary>
    /// The unchecked core. <paramref name="tree"/> holds at least <see cref="TournamentTree.Length"/> entries for the
    /// experts, <paramref name="upcomingShares"/> two per expert; on return the tree's leaves
    /// (<see cref="Shares"/>) hold each expert's final load per replica.
    /// </summary>
    /// <remarks>
    /// Each expert is one <see cref="ShareKey"/>, whose unsigned minimum is the reference's first-index argmax of
    /// <c>weight / logcnt</c>. A <see cref="TournamentTree"/> finds it in O(log k) per slot without
    /// mispredicted branches, instead of the reference's O(k) scan; only the winner's share changes per slot. When
    /// at most eight slots are added, <see cref="ShareVector"/> chooses from the eight best keys in one vector instead.
    /// Each expert's next two shares, <c>w / (count + 1)</c> and <c>w / (count + 2)</c>, are computed ahead, so no
    /// division stands between one slot's choice and the next, even when one expert wins twice in a row.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)] // inlined into a caller, the JIT runs out of inlining budget before the tree update
    internal static void ReplicateRow(ReadOnlySpan<float> weight, int numPhysical, Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount, Span<ulong> tree, Span<float> upcomingShares)
    {
        int k = weight.Length;
        int leaves = TournamentTree.Leaves(k);
        tree = tree.Slice(0, 2 * leaves);
        for (int j = 0; j < k; j++)
        {
            physicalToLogical[j] = j;
        }

        replicaRank.Slice(0, k).Clear();
        logicalReplicaCount.Slice(0, k).Fill(1);
        ShareKey.CreateRow(weight, tree.Slice(leaves, k));
        tree.Slice(leaves + k, leaves - k).Fill(ulong.MaxValue);
        if (numPhysical == k)
        {
            return;
        }

        Span<float> nextShare = upcomingShares.Slice(0, k);
        Span<float> shareAfter = upcomingShares.Slice(k, k);
        FirstShares(weight, nextShare, shareAfter);
        if (ShareVector.IsSupported(numPhysical - k))
        {
            ShareVector.ChooseSlots(weight, numPhysical, physicalToLogical, replicaRank, logicalReplicaCount, tree.Slice(leaves, k), nextShare, shareAfter);
            return;
        }

        TournamentTree.Build(tree, leaves);
        ulong largest = tree[1];
        for (int slot = k; slot < numPhysical; slot++)
        {
            int expert = ShareKey.ExpertOf(largest);
            int count = logicalReplicaCount[expert];
            physicalToLogical[slot] = expert;
            replicaRank[slot] = count;
            logicalReplicaCount[expert] = count + 1;
            largest = TournamentTree.Update(tree, leaves, expert, ShareKey.Create(nextShare[expert], expert));
            nextShare[expert] = shareAfter[expert];
            shareAfter[expert] = weight[expert] / (count + 3);
        }
    }

    // w / 2 and w / 3 for every expert in one pass. A node has a few dozen experts, where a call per division
    // costs more than the divisions.
    private static void FirstShares(ReadOnlySpan<float> weight, Span<float> half, Span<float> third)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j <= weight.Length - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                Vector256<float> w = Vector256.Create(weight.Slice(j, Vector256<float>.Count));
                (w / 2f).CopyTo(half.Slice(j));
                (w / 3f).CopyTo(third.Slice(j));
            }
        }

        for (; j < weight.Length; j++)
        {
            half[j] = weight[j] / 2f;
            third[j] = weight[j] / 3f;
        }
    }

    /// <summary>The tree's leaves after <see cref="ReplicateRow"/>: each expert's <see cref="ShareKey"/> for its final count.</summary>
    internal static ReadOnlySpan<ulong> Shares(ReadOnlySpan<ulong> tree, int experts) => tree.Slice(TournamentTree.Leaves(experts), experts);
}
