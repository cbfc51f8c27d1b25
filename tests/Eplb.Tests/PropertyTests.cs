using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>Invariants every plan must hold, over thousands of random configurations from fixed seeds.</summary>
public class PropertyTests
{
    private const int CasesPerSeed = 500;

    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4, 5, 6 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RebalanceExperts_RandomConfigurations_HoldsEveryInvariant(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < CasesPerSeed; i++)
        {
            RandomCase c = RandomCases.Next(random);
            RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(c.Weights, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus);
            AssertInvariants(plan, c);
        }
    }

    public static TheoryData<int, TieOrder> SeedsAndOrders()
    {
        var data = new TheoryData<int, TieOrder>();
        foreach (TieOrder order in GoldenCases.Orders)
        {
            foreach (int seed in new[] { 1, 2, 3, 4, 5, 6 })
            {
                data.Add(seed, order);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SeedsAndOrders))]
    public void RebalanceExperts_RandomConfigurations_EqualsStraightforwardPort(int seed, TieOrder order)
    {
        var random = new Random(seed + 1000);
        var options = new RebalanceOptions { TieOrder = order };
        for (int i = 0; i < CasesPerSeed; i++)
        {
            RandomCase c = RandomCases.Next(random);
            RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(c.Weights, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus, options);
            var expected = StraightforwardPort.RebalanceExperts(c.Weights, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus, order);

            plan.MaxReplicaCount.Should().Be(expected.MaxCount, c.ToString());
            PlanAssertions.ToArray(plan.PhysicalToLogical).Should().Equal(expected.Phy2Log, c.ToString());
            PlanAssertions.ToArray(plan.LogicalToPhysical).Should().Equal(expected.Log2Phy, c.ToString());
            PlanAssertions.ToArray(plan.LogicalReplicaCount).Should().Equal(expected.LogCnt, c.ToString());
        }
    }

    [Fact]
    public void BalancedPacking_ManyPacksAndTies_EqualsStraightforwardPort()
    {
        // One item per pack (no sort), two per pack (runs of equal loads walked from the end) and more (the
        // tournament tree): each must pick what Python's min() picks.
        var random = new Random(7);
        for (int i = 0; i < 2000; i++)
        {
            int packs = random.Next(1, 80), perPack = random.Next(1, 6);
            float[] w = RandomCases.Loads(random, 1, packs * perPack).Cast<float>().ToArray();
            AssertPacksLikePort(w, w, packs);
        }
    }

    [Fact]
    public void BalancedPacking_FewPacksUpToAndPastTheCountField_EqualsStraightforwardPort()
    {
        // Up to 64 packs are packed in AVX-512 vectors whose keys count items in 8 bits; 255 per pack is the most
        // they take, and more (or more packs) must fall back to the tree with the same result.
        var random = new Random(10);
        for (int i = 0; i < 150; i++)
        {
            int packs = random.Next(1, 71), perPack = random.Next(250, 260);
            float[] w = RandomCases.Loads(random, 1, packs * perPack).Cast<float>().ToArray();
            AssertPacksLikePort(w, w, packs);
        }
    }

    [Fact]
    public void BalancedPacking_NegativeZeroLoads_PacksLikePositiveZero()
    {
        // In the reference a pack holding -0 weighs 0 + -0 = +0, so -0 and +0 loads give the same packing.
        var random = new Random(8);
        for (int i = 0; i < 2000; i++)
        {
            int packs = random.Next(1, 40), perPack = random.Next(2, 5);
            float[] positive = RandomCases.Loads(random, 1, packs * perPack).Cast<float>().ToArray();
            AssertPacksLikePort(WithNegativeZeros(random, positive), positive, packs);
        }
    }

    [Fact]
    public void RebalanceExperts_NegativeZeroLoads_EqualsPositiveZeroPlan()
    {
        var random = new Random(9);
        for (int i = 0; i < 500; i++)
        {
            RandomCase c = RandomCases.Next(random);
            float[] positive = c.Weights.Cast<float>().ToArray();
            float[] negative = WithNegativeZeros(random, positive);

            RebalancePlan expected = ExpertLoadBalancer.RebalanceExperts(positive, c.Weights.GetLength(0), c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus);
            RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(negative, c.Weights.GetLength(0), c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus);

            PlanAssertions.ToArray(plan.PhysicalToLogical).Should().Equal(PlanAssertions.ToArray(expected.PhysicalToLogical), c.ToString());
            PlanAssertions.ToArray(plan.LogicalToPhysical).Should().Equal(PlanAssertions.ToArray(expected.LogicalToPhysical), c.ToString());
        }
    }

    // BalancedPacking.Pack of weights gives what the straightforward port gives for portWeights.
    private static void AssertPacksLikePort(float[] weights, float[] portWeights, int packs)
    {
        var pack = new int[weights.Length];
        var rank = new int[weights.Length];

        BalancedPacking.Pack(weights, packs, pack, rank);

        var expected = StraightforwardPort.BalancedPacking(portWeights, packs);
        string because = $"{packs} packs of {weights.Length / packs}";
        pack.Should().Equal(expected.Pack, because);
        rank.Should().Equal(expected.Rank, because);
    }

    // A copy with about half of its zeros turned into -0.
    private static float[] WithNegativeZeros(Random random, float[] weights)
    {
        float[] copy = (float[])weights.Clone();
        for (int i = 0; i < copy.Length; i++)
        {
            if (copy[i] == 0f && random.Next(2) == 0)
            {
                copy[i] = -0f;
            }
        }

        return copy;
    }

    [Fact]
    public void ExpertReplication_RandomRows_EqualsStraightforwardPort()
    {
        var random = new Random(8);
        for (int i = 0; i < 2000; i++)
        {
            int experts = random.Next(1, 100);
            float[] w = RandomCases.Loads(random, 1, experts).Cast<float>().ToArray();
            int physical = experts + random.Next(0, 3 * experts);
            var phy2log = new int[physical];
            var rank = new int[physical];
            var count = new int[experts];

            ExpertReplication.Replicate(w, physical, phy2log, rank, count);

            var expected = StraightforwardPort.ReplicateExperts(w, physical);
            phy2log.Should().Equal(expected.Phy2Log);
            rank.Should().Equal(expected.Rank);
            count.Should().Equal(expected.LogCnt);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void ExpertReplication_FewAddedSlotsHeavyExpertsOnOneParity_EqualsStraightforwardPort(int heavyParity)
    {
        // Up to eight added slots are chosen from the eight best candidates, gathered from even and odd experts
        // separately and merged: the merge must keep all eight when every heavy expert is on one side.
        var random = new Random(12 + heavyParity);
        for (int i = 0; i < 1000; i++)
        {
            int experts = random.Next(1, 80);
            var w = new float[experts];
            for (int j = 0; j < experts; j++)
            {
                w[j] = j % 2 == heavyParity ? 1000 + random.Next(0, 4) : random.Next(0, 4);
            }

            int physical = experts + random.Next(1, 9);
            var phy2log = new int[physical];
            var rank = new int[physical];
            var count = new int[experts];

            ExpertReplication.Replicate(w, physical, phy2log, rank, count);

            var expected = StraightforwardPort.ReplicateExperts(w, physical);
            phy2log.Should().Equal(expected.Phy2Log);
            rank.Should().Equal(expected.Rank);
            count.Should().Equal(expected.LogCnt);
        }
    }

    [Fact]
    public void LibStdCxxSort_RandomRows_SortsDescendingAndPermutes()
    {
        var random = new Random(9);
        for (int i = 0; i < 2000; i++)
        {
            int n = random.Next(0, 600);
            var values = new float[n];
            for (int j = 0; j < n; j++)
            {
                values[j] = random.Next(0, 1 + random.Next(1, 50));
            }

            var keys = new SortKey[n];
            for (int j = 0; j < n; j++)
            {
                keys[j] = SortKey.Create(values[j], j);
            }

            LibStdCxxSort.SortDescending(keys);

            int[] order = keys.Select(k => k.Index).ToArray();
            order.Order().Should().Equal(Enumerable.Range(0, n), "the sort permutes the indices");
            order.Select(j => values[j]).Should().BeInDescendingOrder();
        }
    }

    [Theory]
    [InlineData("ties")]
    [InlineData("distinct")]
    [InlineData("ascending")]
    [InlineData("descending")]
    [InlineData("organ pipe")]
    [InlineData("sawtooth")]
    public void LibStdCxxSort_RowsOfEveryShape_EqualsLineByLineLibstdcpp(string shape)
    {
        // Every partition path (vector blocks, the scalar tail, heap sort past the depth limit) must make
        // libstdc++'s very swaps: equal values come out in its order, not just sorted.
        var random = new Random(shape.Length);
        for (int i = 0; i < 1500; i++)
        {
            int n = random.Next(0, 700);
            int distinct = 1 + random.Next(1, 40);
            var values = new float[n];
            for (int j = 0; j < n; j++)
            {
                values[j] = shape switch
                {
                    "ties" => random.Next(0, distinct),
                    "distinct" => (float)random.NextDouble(),
                    "ascending" => j / 3,
                    "descending" => (n - j) / 3,
                    "organ pipe" => Math.Min(j, n - j) / 2,
                    _ => j % distinct,
                };
            }

            var keys = new SortKey[n];
            SortKey.CreateRow(values, keys);

            LibStdCxxSort.SortDescending(keys);

            keys.Select(k => k.Index).Should().Equal(LibstdcxxSort.Order(values), $"n = {n}");
        }
    }

    [Theory]
    [InlineData(256)]
    [InlineData(512)]
    public void SortRunByRank_TieHeavyRuns_EqualsLibstdcppInsertionSort(int vectorBits)
    {
        // The vector rank sorts (AVX2, AVX-512) replace libstdc++'s final insertion pass on runs of up to 16; the
        // scalar insertion sort is the fallback without AVX2. All must give the same stable order (vector code
        // without hardware support runs emulated, so both are checked everywhere).
        var random = new Random(11);
        for (int i = 0; i < 20000; i++)
        {
            int n = random.Next(0, 17);
            int distinct = random.Next(1, 6);
            ulong[] expected = Enumerable.Range(0, n).Select(j => SortKey.Create(random.Next(distinct) * 0.5f, j).Bits).ToArray();
            ulong[] actual = (ulong[])expected.Clone();

            if (n > 0)
            {
                LeftoverRuns.InsertionSort(ref expected[0], n);
                if (vectorBits == 256)
                {
                    LeftoverRuns.SortByRank256(ref actual[0], n);
                }
                else
                {
                    LeftoverRuns.SortByRank512(ref actual[0], n);
                }
            }

            actual.Should().Equal(expected);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CreateRow_AnyLengthAndNegativeZero_EqualsCreateOneByOne(bool complementValues)
    {
        var random = new Random(12);
        for (int n = 0; n < 70; n++)
        {
            float[] values = Enumerable.Range(0, n).Select(_ => random.Next(4) switch { 0 => -0f, 1 => 0f, _ => random.Next(0, 1000) / 8f }).ToArray();
            var keys = new ulong[n];

            if (complementValues)
            {
                ShareKey.CreateRow(values, keys);
            }
            else
            {
                SortKey.CreateRow(values, System.Runtime.InteropServices.MemoryMarshal.Cast<ulong, SortKey>(keys.AsSpan()));
            }

            for (int i = 0; i < n; i++)
            {
                ulong expected = complementValues ? ShareKey.Create(values[i], i) : SortKey.Create(values[i], i).Bits;
                keys[i].Should().Be(expected);
                (keys[i] >> 32).Should().Be(values[i] == 0 ? (complementValues ? 0xFFFF_FFFFUL : 0UL) : BitConverter.SingleToUInt32Bits(values[i]) ^ (complementValues ? 0xFFFF_FFFFU : 0U), "-0 folds to +0");
            }
        }
    }

    [Fact]
    public void RebalanceExperts_ManyThreadsAtOnce_ReturnsIdenticalPlans()
    {
        var random = new Random(10);
        RandomCase[] cases = Enumerable.Range(0, 64).Select(_ => RandomCases.Next(random)).ToArray();
        int[][] expected = cases.Select(c => Fingerprint(ExpertLoadBalancer.RebalanceExperts(c.Weights, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus))).ToArray();

        var mismatches = 0;
        Parallel.For(0, cases.Length * 20, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
        {
            RandomCase c = cases[i % cases.Length];
            int[] actual = Fingerprint(ExpertLoadBalancer.RebalanceExperts(c.Weights, c.NumReplicas, c.NumGroups, c.NumNodes, c.NumGpus));
            if (!actual.AsSpan().SequenceEqual(expected[i % cases.Length]))
            {
                Interlocked.Increment(ref mismatches);
            }
        });

        mismatches.Should().Be(0);
    }

    private static int[] Fingerprint(RebalancePlan plan) =>
        [.. PlanAssertions.ToArray(plan.PhysicalToLogical), .. PlanAssertions.ToArray(plan.LogicalToPhysical), .. PlanAssertions.ToArray(plan.LogicalReplicaCount)];

    internal static void AssertInvariants(RebalancePlan plan, RandomCase c)
    {
        int layers = c.Weights.GetLength(0), experts = c.Weights.GetLength(1), p = c.NumReplicas;
        int slotsPerGpu = p / c.NumGpus;
        bool hierarchical = c.NumGroups % c.NumNodes == 0;
        plan.Policy.Should().Be(hierarchical ? RebalancePolicy.Hierarchical : RebalancePolicy.Global);
        for (int l = 0; l < layers; l++)
        {
            ReadOnlySpan<int> slots = plan.GetPhysicalToLogical(l);
            ReadOnlySpan<int> counts = plan.GetLogicalReplicaCount(l);
            var seen = new int[experts];
            foreach (int e in slots)
            {
                e.Should().BeInRange(0, experts - 1);
                seen[e]++;
            }

            int total = 0;
            var slotsPerGpuSeen = new int[c.NumGpus];
            for (int e = 0; e < experts; e++)
            {
                counts[e].Should().BeGreaterThanOrEqualTo(1, "every logical expert keeps a replica ({0})", c);
                counts[e].Should().Be(seen[e], "logcnt counts phy2log's occurrences ({0})", c);
                total += counts[e];

                // log2phy and phy2log are inverses; entries past the count are -1.
                for (int r = 0; r < plan.MaxReplicaCount; r++)
                {
                    int slot = plan.LogicalToPhysical[l, e, r];
                    if (r < counts[e])
                    {
                        slots[slot].Should().Be(e);
                        slotsPerGpuSeen[slot / slotsPerGpu]++;
                    }
                    else
                    {
                        slot.Should().Be(-1);
                    }
                }
            }

            total.Should().Be(p, "replica counts sum to numReplicas ({0})", c);
            slotsPerGpuSeen.Should().AllBeEquivalentTo(slotsPerGpu, "each GPU holds numReplicas / numGpus replicas ({0})", c);

            if (hierarchical)
            {
                AssertGroupsStayOnTheirNode(slots, c, experts);
            }
        }
    }

    private static void AssertGroupsStayOnTheirNode(ReadOnlySpan<int> slots, RandomCase c, int experts)
    {
        int groupSize = experts / c.NumGroups, slotsPerNode = c.NumReplicas / c.NumNodes;
        var nodeOfGroup = new int[c.NumGroups];
        Array.Fill(nodeOfGroup, -1);
        for (int s = 0; s < slots.Length; s++)
        {
            int group = slots[s] / groupSize, node = s / slotsPerNode;
            nodeOfGroup[group].Should().BeOneOf([-1, node], "a group's experts live on one node ({0})", c);
            nodeOfGroup[group] = node;
        }

        for (int node = 0; node < c.NumNodes; node++)
        {
            nodeOfGroup.Count(n => n == node).Should().Be(c.NumGroups / c.NumNodes, "each node holds numGroups / numNodes whole groups ({0})", c);
        }
    }
}
