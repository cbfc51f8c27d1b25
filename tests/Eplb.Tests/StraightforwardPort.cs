namespace Eplb.Tests;

/// <summary>
/// eplb.py transcribed line by line, with no heaps and no shortcuts: the oracle the optimised library is checked
/// against on random inputs. It shares only the sorts, which the golden cases pin down, and sums each group in the
/// library's documented fixed order (eight partial sums), written out here on its own.
/// </summary>
internal static class StraightforwardPort
{
    public static (int[] Pack, int[] Rank) BalancedPacking(float[] weight, int numPacks, TieOrder order = TieOrder.LibStdCxx)
    {
        int n = weight.Length, per = n / numPacks;
        var pack = new int[n];
        var rank = new int[n];
        if (per == 1)
        {
            for (int i = 0; i < n; i++)
            {
                pack[i] = i;
            }

            return (pack, rank);
        }

        var keys = new SortKey[n];
        for (int i = 0; i < n; i++)
        {
            keys[i] = SortKey.Create(weight[i], i);
        }

        switch (order)
        {
            case TieOrder.X86SimdSortAvx512:
                X86SimdSortAvx512.SortDescending(keys);
                break;
            case TieOrder.X86SimdSortAvx2:
                X86SimdSortAvx2.SortDescending(keys);
                break;
            default:
                LibStdCxxSort.SortDescending(keys);
                break;
        }

        var loads = new float[numPacks];
        var items = new int[numPacks];
        foreach (SortKey key in keys)
        {
            int group = key.Index;
            int best = -1;
            for (int p = 0; p < numPacks; p++)
            {
                if (items[p] < per && (best == -1 || loads[p] < loads[best]))
                {
                    best = p;
                }
            }

            pack[group] = best;
            rank[group] = items[best];
            loads[best] += weight[group];
            items[best]++;
        }

        return (pack, rank);
    }

    public static (int[] Phy2Log, int[] Rank, int[] LogCnt) ReplicateExperts(float[] weight, int numPhy)
    {
        int numLog = weight.Length;
        var phy2log = new int[numPhy];
        var rank = new int[numPhy];
        var logcnt = new int[numLog];
        for (int i = 0; i < numPhy; i++)
        {
            phy2log[i] = i < numLog ? i : 0;
        }

        Array.Fill(logcnt, 1);
        for (int i = numLog; i < numPhy; i++)
        {
            int best = 0;
            for (int j = 1; j < numLog; j++)
            {
                if (weight[j] / logcnt[j] > weight[best] / logcnt[best])
                {
                    best = j;
                }
            }

            phy2log[i] = best;
            rank[i] = logcnt[best];
            logcnt[best]++;
        }

        return (phy2log, rank, logcnt);
    }

    /// <summary>rebalance_experts: returns phy2log [L*P], log2phy [L*E*W], logcnt [L*E] and W.</summary>
    public static (int[] Phy2Log, int[] Log2Phy, int[] LogCnt, int MaxCount) RebalanceExperts(float[,] weight, int numReplicas, int numGroups, int numNodes, int numGpus,
        TieOrder order = TieOrder.LibStdCxx)
    {
        if (numGroups % numNodes != 0)
        {
            numGroups = 1;
            numNodes = 1;
        }

        int layers = weight.GetLength(0), experts = weight.GetLength(1);
        int groupSize = experts / numGroups, groupsPerNode = numGroups / numNodes;
        int perNodeLog = experts / numNodes, perNodePhy = numReplicas / numNodes, perGpu = numReplicas / numGpus;
        var phy2log = new int[layers * numReplicas];
        var phyrank = new int[layers * numReplicas];
        var logcnt = new int[layers * experts];
        for (int l = 0; l < layers; l++)
        {
            var tokensPerGroup = new float[numGroups];
            for (int j = 0; j < numGroups; j++)
            {
                // Eight partial sums, value i into partial i % 8 in index order, then (p0 + p4) + (p2 + p6) and
                // (p1 + p5) + (p3 + p7), added.
                var partial = new float[8];
                for (int i = 0; i < groupSize; i++)
                {
                    partial[i % 8] += weight[l, (j * groupSize) + i];
                }

                tokensPerGroup[j] = ((partial[0] + partial[4]) + (partial[2] + partial[6])) + ((partial[1] + partial[5]) + (partial[3] + partial[7]));
            }

            (int[] gp, int[] gr) = BalancedPacking(tokensPerGroup, numNodes, order);
            var log2mlog = new int[experts];
            var mlog2log = new int[experts];
            for (int e = 0; e < experts; e++)
            {
                int j = e / groupSize;
                log2mlog[e] = (((gp[j] * groupsPerNode) + gr[j]) * groupSize) + (e % groupSize);
                mlog2log[log2mlog[e]] = e;
            }

            var mlogcnt = new int[experts];
            for (int d = 0; d < numNodes; d++)
            {
                var row = new float[perNodeLog];
                for (int i = 0; i < perNodeLog; i++)
                {
                    row[i] = weight[l, mlog2log[(d * perNodeLog) + i]];
                }

                (int[] phy2mlog, int[] rank, int[] cnt) = ReplicateExperts(row, perNodePhy);
                Array.Copy(cnt, 0, mlogcnt, d * perNodeLog, perNodeLog);
                var tokensPerPhy = new float[perNodePhy];
                for (int s = 0; s < perNodePhy; s++)
                {
                    tokensPerPhy[s] = row[phy2mlog[s]] / cnt[phy2mlog[s]];
                }

                (int[] pack, int[] rankInPack) = BalancedPacking(tokensPerPhy, numGpus / numNodes, order);
                for (int s = 0; s < perNodePhy; s++)
                {
                    int slot = (l * numReplicas) + (d * perNodePhy) + (pack[s] * perGpu) + rankInPack[s];
                    phy2log[slot] = mlog2log[(d * perNodeLog) + phy2mlog[s]];
                    phyrank[slot] = rank[s];
                }
            }

            for (int e = 0; e < experts; e++)
            {
                logcnt[(l * experts) + e] = mlogcnt[log2mlog[e]];
            }
        }

        int max = logcnt.Max();
        var log2phy = new int[layers * experts * max];
        Array.Fill(log2phy, -1);
        for (int l = 0; l < layers; l++)
        {
            for (int p = 0; p < numReplicas; p++)
            {
                int at = (l * numReplicas) + p;
                log2phy[(((l * experts) + phy2log[at]) * max) + phyrank[at]] = p;
            }
        }

        return (phy2log, log2phy, logcnt, max);
    }
}
