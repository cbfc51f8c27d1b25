using System.Buffers;

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
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numPhysical"/> is smaller than the expert count.</exception>
    /// <exception cref="ArgumentException">A destination is shorter than the rule above.</exception>
    public static void Replicate(ReadOnlySpan<float> weight, int numPhysical, Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount)
    {
        ThrowHelper.ThrowIfEmpty(weight.Length, nameof(weight));
        ThrowHelper.ThrowIfLess(numPhysical, weight.Length, nameof(numPhysical), "the number of logical experts");
        ThrowHelper.ThrowIfDestinationTooShort(physicalToLogical.Length, numPhysical, nameof(physicalToLogical));
        ThrowHelper.ThrowIfDestinationTooShort(replicaRank.Length, numPhysical, nameof(replicaRank));
        ThrowHelper.ThrowIfDestinationTooShort(logicalReplicaCount.Length, weight.Length, nameof(logicalReplicaCount));
        ThrowHelper.ThrowIfInvalidLoads(weight, weight.Length, nameof(weight));

        ulong[] heap = ArrayPool<ulong>.Shared.Rent(weight.Length);
        try
        {
            ReplicateRow(weight, numPhysical, physicalToLogical, replicaRank, logicalReplicaCount, heap);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(heap);
        }
    }

    /// <summary>
    /// Replicates every row of <c>[X, num_log]</c> experts independently: <c>replicate_experts(weight, num_phy)</c>.
    /// </summary>
    /// <param name="weight">The loads, <c>[X, num_log]</c>: finite and non-negative.</param>
    /// <param name="numPhysical">The number of physical slots per row (<c>num_phy</c>); at least <c>num_log</c>.</param>
    /// <returns><c>(phy2log [X, num_phy], rank [X, num_phy], logcnt [X, num_log])</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> has no rows or no columns.</exception>
    /// <exception cref="ArgumentException"><paramref name="weight"/> holds a NaN, infinite or negative value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numPhysical"/> is smaller than <c>num_log</c>.</exception>
    public static (int[,] PhysicalToLogical, int[,] ReplicaRank, int[,] LogicalReplicaCount) Replicate(float[,] weight, int numPhysical)
    {
        ArgumentNullException.ThrowIfNull(weight);
        int rows = weight.GetLength(0), k = weight.GetLength(1);
        ThrowHelper.ThrowIfEmpty(rows, nameof(weight));
        ThrowHelper.ThrowIfEmpty(k, nameof(weight));
        ThrowHelper.ThrowIfLess(numPhysical, k, nameof(numPhysical), "the number of logical experts");
        ThrowHelper.ThrowIfProductTooLarge(rows, numPhysical, nameof(numPhysical));
        ReadOnlySpan<float> all = MatrixMarshal.AsSpan(weight);
        ThrowHelper.ThrowIfInvalidLoads(all, k, nameof(weight));

        var phy2log = new int[rows, numPhysical];
        var rank = new int[rows, numPhysical];
        var logcnt = new int[rows, k];
        Span<int> p2l = MatrixMarshal.AsSpan(phy2log), rk = MatrixMarshal.AsSpan(rank), cnt = MatrixMarshal.AsSpan(logcnt);
        ulong[] heap = ArrayPool<ulong>.Shared.Rent(k);
        try
        {
            for (int r = 0; r < rows; r++)
            {
                ReplicateRow(all.Slice(r * k, k), numPhysical, p2l.Slice(r * numPhysical, numPhysical), rk.Slice(r * numPhysical, numPhysical), cnt.Slice(r * k, k), heap);
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(heap);
        }

        return (phy2log, rank, logcnt);
    }

    /// <summary>The unchecked core. <paramref name="heap"/> holds at least as many entries as there are experts.</summary>
    /// <remarks>
    /// A max-heap of keys <c>(share bits, ~expert)</c>: non-negative float bits order like the shares, and the
    /// complemented index makes the lowest expert the larger key on equal shares — the reference's first-index
    /// argmax, found in O(log k) per slot instead of O(k). Only the chosen expert's share changes per slot, so
    /// one sift-down keeps the heap exact.
    /// </remarks>
    internal static void ReplicateRow(ReadOnlySpan<float> weight, int numPhysical, Span<int> physicalToLogical, Span<int> replicaRank, Span<int> logicalReplicaCount, Span<ulong> heap)
    {
        int k = weight.Length;
        for (int j = 0; j < k; j++)
        {
            physicalToLogical[j] = j;
            replicaRank[j] = 0;
            logicalReplicaCount[j] = 1;
        }

        if (numPhysical == k)
        {
            return;
        }

        heap = heap.Slice(0, k);
        for (int j = 0; j < k; j++)
        {
            heap[j] = ShareKey(weight[j], j);
        }

        for (int j = (k / 2) - 1; j >= 0; j--)
        {
            SiftDownMax(heap, j);
        }

        for (int slot = k; slot < numPhysical; slot++)
        {
            int expert = ~(int)(uint)heap[0];
            int count = logicalReplicaCount[expert];
            physicalToLogical[slot] = expert;
            replicaRank[slot] = count;
            logicalReplicaCount[expert] = ++count;
            heap[0] = ShareKey(weight[expert] / count, expert);
            SiftDownMax(heap, 0);
        }
    }

    private static ulong ShareKey(float share, int expert)
    {
        uint bits = BitConverter.SingleToUInt32Bits(share);
        if (bits == 0x8000_0000u)
        {
            bits = 0;
        }

        return ((ulong)bits << 32) | (uint)~expert;
    }

    private static void SiftDownMax(Span<ulong> heap, int hole)
    {
        int n = heap.Length;
        ulong value = heap[hole];
        while (true)
        {
            int child = (2 * hole) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && heap[child + 1] > heap[child])
            {
                child++;
            }

            if (heap[child] <= value)
            {
                break;
            }

            heap[hole] = heap[child];
            hole = child;
        }

        heap[hole] = value;
    }
}
