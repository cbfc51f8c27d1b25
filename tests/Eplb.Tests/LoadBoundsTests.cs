using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>LB and LB_hier, against hand computation and brute force.</summary>
public class LoadBoundsTests
{
    [Fact]
    public void LowerBound_HandComputed_IsMaxOfMeanAndLeastLargestShare()
    {
        // 4 experts, 6 slots on 2 GPUs: W/G = 60; m* gives 80 two replicas (40), then 40 or 40 ... → largest share 40.
        float[] w = [80, 20, 10, 10];
        LoadBounds.LowerBound(w, 6, 2).Should().Be(60);

        // One dominant expert: 4 slots, 1 extra: 100 → 50; m* = 50 > W/G = 110/4.
        LoadBounds.LowerBound([100, 5, 5], 4, 4).Should().Be(50);
    }

    [Fact]
    public void HierarchicalLowerBound_RandomSmallCases_EqualsBruteForceOverAssignments()
    {
        var random = new Random(4);
        for (int i = 0; i < 200; i++)
        {
            int nodes = random.Next(2, 4), groupsPerNode = random.Next(1, 4), groups = nodes * groupsPerNode;
            int groupSize = random.Next(1, 4), experts = groups * groupSize, gpusPerNode = random.Next(1, 4), gpus = nodes * gpusPerNode;
            int slotsPerGpu = ((experts + gpus - 1) / gpus) + random.Next(0, 3);
            float[] w = [.. Enumerable.Range(0, experts).Select(_ => (float)random.Next(0, 100))];

            double expected = BruteForce(w, gpus * slotsPerGpu, groups, nodes, gpus);

            LoadBounds.HierarchicalLowerBound(w, gpus * slotsPerGpu, groups, nodes, gpus).Should().BeApproximately(expected, 1e-9 * Math.Max(1, expected));
        }
    }

    [Fact]
    public void HierarchicalLowerBound_NeverBelowLowerBound()
    {
        var random = new Random(9);
        for (int i = 0; i < 100; i++)
        {
            float[] w = [.. Enumerable.Range(0, 32).Select(_ => (float)random.Next(0, 1000))];
            LoadBounds.HierarchicalLowerBound(w, 48, 8, 4, 8).Should().BeGreaterThanOrEqualTo(LoadBounds.LowerBound(w, 48, 8) * (1 - 1e-12));
        }
    }

    [Fact]
    public void HierarchicalLowerBound_NodesDoNotDivideGroups_ThrowsNamingNumNodes()
    {
        Action act = () => LoadBounds.HierarchicalLowerBound([1, 2, 3, 4, 5, 6], 6, 2, 3, 3);

        act.Should().Throw<ArgumentException>().WithParameterName("numNodes");
    }

    [Fact]
    public void LowerBound_BadArguments_Throw()
    {
        ((Action)(() => LoadBounds.LowerBound([], 4, 2))).Should().Throw<ArgumentException>().WithParameterName("weight");
        ((Action)(() => LoadBounds.LowerBound([1, 2, 3], 2, 2))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("numReplicas");
        ((Action)(() => LoadBounds.LowerBound([1, 2, 3], 5, 2))).Should().Throw<ArgumentException>().WithParameterName("numReplicas");
        ((Action)(() => LoadBounds.LowerBound([1, float.NaN], 4, 2))).Should().Throw<ArgumentException>().WithParameterName("weight");
    }

    private static double BruteForce(float[] w, int slots, int groups, int nodes, int gpus)
    {
        int groupSize = w.Length / groups, perNode = groups / nodes;
        double best = double.PositiveInfinity;
        var node = new int[groups];

        void Assign(int group)
        {
            if (group == groups)
            {
                double worst = 0;
                for (int n = 0; n < nodes; n++)
                {
                    var loads = new List<double>();
                    for (int g = 0; g < groups; g++)
                    {
                        if (node[g] == n)
                        {
                            for (int e = g * groupSize; e < (g + 1) * groupSize; e++)
                            {
                                loads.Add(w[e]);
                            }
                        }
                    }

                    worst = Math.Max(worst, Math.Max(loads.Sum() / (gpus / nodes), LeastLargestShare(loads, slots / nodes)));
                }

                best = Math.Min(best, worst);
                return;
            }

            for (int n = 0; n < nodes; n++)
            {
                if (node.Take(group).Count(x => x == n) < perNode)
                {
                    node[group] = n;
                    Assign(group + 1);
                }
            }
        }

        Assign(0);
        return best;
    }

    // Smallest m with Σ ceil(w / m) ≤ slots, by trying every candidate w_e / c.
    private static double LeastLargestShare(List<double> loads, int slots)
    {
        double best = double.PositiveInfinity;
        foreach (double w in loads)
        {
            for (int c = 1; c <= slots; c++)
            {
                double m = w / c;
                long needed = loads.Sum(x => x == 0 ? 1 : m == 0 ? int.MaxValue : Math.Max(1, (long)Math.Ceiling(x / m - 1e-12)));
                if (needed <= slots)
                {
                    best = Math.Min(best, m);
                }
            }
        }

        return best;
    }
}
