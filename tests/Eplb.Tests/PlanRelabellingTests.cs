using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>Move-minimising re-placement: the fresh plan's loads exactly, never more copies, optimal.</summary>
public class PlanRelabellingTests
{
    public static TheoryData<int, int, int, int> Clusters => new()
    {
        { 288, 8, 4, 32 },
        { 320, 8, 8, 64 },
        { 288, 8, 18, 144 },
        { 320, 8, 40, 320 },
        { 320, 8, 2, 8 },    // 40 slots per GPU: more than one vector holds (SlotMatching.SmallGpuSlots)
        { 272, 3, 2, 16 },   // 17 slots per GPU, global policy
    };

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Relabel_DriftingLoads_KeepsEveryGpuLoadAndNeverCopiesMore(int replicas, int groups, int nodes, int gpus)
    {
        float[][,] series = ExpertLoadGenerator.GenerateSeries(2, 58, 256, seed: 7, numGroups: 8, groupCorrelation: true);
        RebalancePlan inForce = ExpertLoadBalancer.RebalanceExperts(series[0], replicas, groups, nodes, gpus);
        RebalancePlan fresh = ExpertLoadBalancer.RebalanceExperts(series[1], replicas, groups, nodes, gpus);

        RelabelledPlan relabelled = PlanRelabelling.Relabel(fresh, PlanAssertions.ToArray(inForce.PhysicalToLogical));

        AssertSameLoadsUpToLabels(fresh, relabelled.Plan);
        relabelled.Migration.Copies.Should().BeLessThanOrEqualTo(relabelled.Migration.FreshCopies);
        relabelled.Migration.FreshCopies.Should().Be(PlanMigration.Between(PlanAssertions.ToArray(inForce.PhysicalToLogical), fresh).Copies);
        AssertStayersKeepTheirSlots(PlanAssertions.ToArray(inForce.PhysicalToLogical), relabelled.Plan);
        AssertMovesAreRight(PlanAssertions.ToArray(inForce.PhysicalToLogical), relabelled);
        int[] old = PlanAssertions.ToArray(inForce.PhysicalToLogical);
        relabelled.Migration.Copies.Should().Be(CountCopies(old, relabelled.Plan), "relabelling counts the copies it matches slots for");
        relabelled.Migration.Moves.Should().HaveCount(relabelled.Migration.Copies)
            .And.OnlyHaveUniqueItems(copy => ((long)copy.Layer << 40) + ((long)copy.Gpu << 20) + copy.Expert, "a GPU receives an expert once");
        relabelled.Migration.Moves.Select(copy => ((long)copy.Layer * 1_000_000) + copy.Slot).Should().BeInAscendingOrder("by layer, GPU and slot");
        PlanMigration.Between(old, relabelled.Plan).Moves.Should().Equal(relabelled.Migration.Moves);
    }

    [Fact]
    public void Relabel_NodePermutations_NeverCopyMoreThanGpusWithinNodes()
    {
        // Permuting whole nodes widens the choice, so the best relabelling can only copy less; on a drifting series
        // at (288, 8, 4, 32), where a node holds two groups, it does.
        float[][,] series = ExpertLoadGenerator.GenerateSeries(4, 58, 256, seed: 3, numGroups: 8, groupCorrelation: true);
        int withNodes = 0, withinNodes = 0;
        for (int t = 1; t < series.Length; t++)
        {
            int[] old = PlanAssertions.ToArray(ExpertLoadBalancer.RebalanceExperts(series[t - 1], 288, 8, 4, 32).PhysicalToLogical);
            RebalancePlan fresh = ExpertLoadBalancer.RebalanceExperts(series[t], 288, 8, 4, 32);
            int nodesToo = PlanRelabelling.Relabel(fresh, old, permuteNodes: true).Migration.Copies;
            int gpusOnly = PlanRelabelling.Relabel(fresh, old, permuteNodes: false).Migration.Copies;
            nodesToo.Should().BeLessThanOrEqualTo(gpusOnly);
            withNodes += nodesToo;
            withinNodes += gpusOnly;
        }

        withNodes.Should().BeLessThan(withinNodes);
    }

    [Fact]
    public void Relabel_SmallRandomCases_IsOptimalAgainstBruteForce()
    {
        var random = new Random(17);
        for (int i = 0; i < 300; i++)
        {
            // Hierarchical: up to 3 nodes of 3 GPUs; global (groups not a multiple of nodes): up to 6 GPUs, any order.
            bool hierarchical = random.Next(2) == 0;
            int nodes = hierarchical ? random.Next(1, 4) : 2, perNode = random.Next(1, 4);
            int gpus = nodes * perNode, perGpu = random.Next(1, 4), experts = random.Next(1, (gpus * perGpu) + 1);
            int groups = hierarchical ? nodes : 3;
            while (hierarchical && experts % groups != 0)
            {
                experts--;
            }

            if (experts == 0)
            {
                continue;
            }

            float[,] before = RandomCases.Loads(random, 2, experts), after = RandomCases.Loads(random, 2, experts);
            RebalancePlan inForce = ExpertLoadBalancer.RebalanceExperts(before, gpus * perGpu, groups, nodes, gpus);
            RebalancePlan fresh = ExpertLoadBalancer.RebalanceExperts(after, gpus * perGpu, groups, nodes, gpus);
            int[] old = PlanAssertions.ToArray(inForce.PhysicalToLogical);

            RelabelledPlan relabelled = PlanRelabelling.Relabel(fresh, old);

            relabelled.Migration.Copies.Should().Be(BruteForceCopies(fresh, old), $"{gpus} GPUs in {nodes} nodes, {perGpu} slots each, {fresh.Policy}");
            AssertSameLoadsUpToLabels(fresh, relabelled.Plan);
        }
    }

    [Fact]
    public void Relabel_TwoSlotsPerGpuGlobal_IsOptimalAgainstBruteForceAndTheDenseHungarian()
    {
        // The identical-pairs-then-matching path (TwoSlotRelabelling): small clusters against every permutation,
        // larger ones against the textbook Hungarian method on the dense overlap matrix; many ties and duplicates.
        var random = new Random(23);
        for (int i = 0; i < 400; i++)
        {
            int gpus = i < 200 ? random.Next(1, 7) : random.Next(7, 60), experts = random.Next(1, (2 * gpus) + 1);
            float[,] before = RandomCases.Loads(random, 2, experts), after = RandomCases.Loads(random, 2, experts);
            RebalancePlan inForce = ExpertLoadBalancer.RebalanceExperts(before, 2 * gpus, 1, 1, gpus);
            RebalancePlan fresh = ExpertLoadBalancer.RebalanceExperts(after, 2 * gpus, 1, 1, gpus);
            int[] old = PlanAssertions.ToArray(inForce.PhysicalToLogical);
            if (random.Next(4) == 0)
            {
                // A plan in force made elsewhere: another plan for the new loads, GPUs shuffled, so identical pairs abound.
                int[] order = [.. Enumerable.Range(0, gpus).OrderBy(_ => random.Next())];
                for (int l = 0; l < 2; l++)
                {
                    for (int g = 0; g < gpus; g++)
                    {
                        fresh.GetPhysicalToLogical(l).Slice(2 * g, 2).CopyTo(old.AsSpan((l * 2 * gpus) + (2 * order[g]), 2));
                    }
                }
            }

            RelabelledPlan relabelled = PlanRelabelling.Relabel(fresh, old);

            int expected = gpus <= 6 ? BruteForceCopies(fresh, old) : DenseOptimalCopies(fresh, old);
            relabelled.Migration.Copies.Should().Be(expected, $"{gpus} GPUs, {experts} experts");
            AssertSameLoadsUpToLabels(fresh, relabelled.Plan);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void SlotMatching_EveryGpuOfTwoOrThreeSlots_FollowsTheRules(int perGpu)
    {
        // Every pair of GPUs over experts -1 (unavailable) to 2: a replica keeps the lowest old slot holding its expert
        // that no earlier replica kept; the others take the slots left in order; a copy is an expert the GPU lacks.
        int[] values = [-1, 0, 1, 2];
        int combinations = (int)Math.Pow(values.Length, perGpu);
        var matching = new SlotMatching();
        for (int a = 0; a < combinations; a++)
        {
            for (int b = 0; b < combinations; b++)
            {
                int[] had = Digits(a, perGpu, values), gets = Digits(b, perGpu, values);
                var slotOf = new int[perGpu];

                int copies = matching.Match(gets, had, [0], 3, slotOf);

                var kept = new bool[perGpu];
                var expected = new int[perGpu];
                Array.Fill(expected, -1);
                for (int s = 0; s < perGpu; s++)
                {
                    int keep = gets[s] < 0 ? -1 : Enumerable.Range(0, perGpu).FirstOrDefault(k => had[k] == gets[s] && !kept[k], -1);
                    if (keep >= 0)
                    {
                        (expected[s], kept[keep]) = (keep, true);
                    }
                }

                for (int s = 0; s < perGpu; s++)
                {
                    if (expected[s] < 0)
                    {
                        int free = Array.IndexOf(kept, false);
                        (expected[s], kept[free]) = (free, true);
                    }
                }

                slotOf.Should().Equal(expected, $"had [{string.Join(",", had)}], gets [{string.Join(",", gets)}]");
                copies.Should().Be(gets.Where(e => e >= 0).Distinct().Count(e => !had.Contains(e)));
            }
        }

        static int[] Digits(int n, int count, int[] values) => [.. Enumerable.Range(0, count).Select(i => values[n / (int)Math.Pow(values.Length, i) % values.Length])];
    }

    [Fact]
    public void Moves_ReadFromManyThreadsAtOnce_AreOneList()
    {
        float[][,] series = ExpertLoadGenerator.GenerateSeries(2, 8, 64, seed: 4, numGroups: 8, groupCorrelation: true);
        int[] old = PlanAssertions.ToArray(ExpertLoadBalancer.RebalanceExperts(series[0], 80, 8, 2, 16).PhysicalToLogical);
        RelabelledPlan relabelled = PlanRelabelling.Relabel(ExpertLoadBalancer.RebalanceExperts(series[1], 80, 8, 2, 16), old);
        PlanMigration migration = relabelled.Migration;

        var lists = new IReadOnlyList<ExpertCopy>[8];
        Parallel.For(0, lists.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => lists[i] = migration.Moves);

        lists.Should().OnlyContain(list => ReferenceEquals(list, lists[0]), "the first list made is the one kept");
        lists[0].Should().HaveCount(migration.Copies).And.Equal(PlanMigration.Between(old, relabelled.Plan).Moves);
        migration.Copies.Should().BeGreaterThan(0);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void LogicalToPhysical_ReadFromManyThreadsAtOnce_IsTheFreshOnesRenumbered(int replicas, int groups, int nodes, int gpus)
    {
        // A relabelled plan builds log2phy when first read: every thread reads the same, and each replica keeps its
        // rank — rank r of an expert sits on the GPU that the fresh plan's rank r went to, which holds the same experts.
        float[][,] series = ExpertLoadGenerator.GenerateSeries(2, 6, 256, seed: 8, numGroups: 8, groupCorrelation: true);
        int[] old = PlanAssertions.ToArray(ExpertLoadBalancer.RebalanceExperts(series[0], replicas, groups, nodes, gpus).PhysicalToLogical);
        RebalancePlan fresh = ExpertLoadBalancer.RebalanceExperts(series[1], replicas, groups, nodes, gpus);
        RebalancePlan once = PlanRelabelling.Relabel(fresh, old).Plan;

        // Relabelled again before its log2phy is read (against a plan of another policy): the renumberings compose.
        int[] other = PlanAssertions.ToArray(ExpertLoadBalancer.RebalanceExperts(series[0], replicas, 1, 1, gpus).PhysicalToLogical);
        RebalancePlan twice = PlanRelabelling.Relabel(once, other).Plan;

        foreach (RebalancePlan plan in new[] { twice, once })
        {
            var reads = new int[8][];
            Parallel.For(0, reads.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => reads[i] = PlanAssertions.ToArray(plan.LogicalToPhysical));

            reads.Should().OnlyContain(read => read.SequenceEqual(reads[0]));
            int perGpu = replicas / gpus, width = plan.MaxReplicaCount;
            for (int l = 0; l < plan.NumLayers; l++)
            {
                string Gpu(RebalancePlan p, int slot) => string.Join(",", p.GetPhysicalToLogical(l).Slice(slot / perGpu * perGpu, perGpu).ToArray().Order());
                for (int e = 0; e < plan.NumLogicalExperts; e++)
                {
                    int count = plan.GetLogicalReplicaCount(l)[e];
                    ReadOnlySpan<int> row = reads[0].AsSpan(((l * plan.NumLogicalExperts) + e) * width, width);
                    row[count..].ToArray().Should().Equal(Enumerable.Repeat(-1, width - count), "padding");
                    row[..count].ToArray().Should().OnlyHaveUniqueItems();
                    for (int r = 0; r < count; r++)
                    {
                        plan.GetPhysicalToLogical(l)[row[r]].Should().Be(e);
                        Gpu(plan, row[r]).Should().Be(Gpu(fresh, fresh.GetLogicalToPhysical(l, e)[r]), $"layer {l}, expert {e}, rank {r}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Relabel_AfterOtherShapesOnTheSameThread_GivesWhatAFreshThreadGives()
    {
        // Relabelling keeps its scratch between calls on a thread; nothing a call leaves behind may change the next.
        var random = new Random(41);
        for (int i = 0; i < 150; i++)
        {
            int nodes = random.Next(1, 5), perNode = random.Next(1, 5), gpus = nodes * perNode, perGpu = random.Next(1, 4);
            int experts = random.Next(1, (gpus * perGpu) + 1), groups = random.Next(2) == 0 || nodes == 1 ? nodes : nodes + 1;
            while (groups % nodes == 0 && experts % groups != 0)
            {
                experts--;
            }

            if (experts == 0)
            {
                continue;
            }

            var options = new RebalanceOptions { UnavailableGpus = random.Next(4) == 0 && gpus > 1 && (gpus - 1) * perGpu >= experts ? [random.Next(gpus)] : [] };
            RebalancePlan inForce = ExpertLoadBalancer.RebalanceExperts(RandomCases.Loads(random, 3, experts), gpus * perGpu, groups, nodes, gpus);
            RebalancePlan fresh = ExpertLoadBalancer.RebalanceExperts(RandomCases.Loads(random, 3, experts), gpus * perGpu, groups, nodes, gpus, options);
            int[] old = PlanAssertions.ToArray(inForce.PhysicalToLogical);

            RelabelledPlan warm = PlanRelabelling.Relabel(fresh, old);
            RelabelledPlan cold = null!;
            var thread = new Thread(() => cold = PlanRelabelling.Relabel(fresh, old));
            thread.Start();
            thread.Join();

            PlanAssertions.ToArray(warm.Plan.PhysicalToLogical).Should().Equal(PlanAssertions.ToArray(cold.Plan.PhysicalToLogical), $"case {i}");
            PlanAssertions.ToArray(warm.Plan.LogicalToPhysical).Should().Equal(PlanAssertions.ToArray(cold.Plan.LogicalToPhysical), $"case {i}");
            warm.Migration.Copies.Should().Be(cold.Migration.Copies);
        }
    }

    [Fact]
    public void Relabel_SamePlan_CopiesNothing()
    {
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(ExpertLoadGenerator.Generate(4, 64, seed: 3), 80, 8, 4, 16);
        int[] phy2log = PlanAssertions.ToArray(plan.PhysicalToLogical);

        RelabelledPlan relabelled = PlanRelabelling.Relabel(plan, phy2log);

        relabelled.Migration.Copies.Should().Be(0);
        PlanAssertions.ToArray(relabelled.Plan.PhysicalToLogical).Should().Equal(phy2log);
    }

    [Fact]
    public void Relabel_GpusRenumbered_FindsTheRenumbering()
    {
        // The plan in force is the fresh plan with GPUs 0 and 1 of each node swapped and their slots reversed:
        // relabelling must undo it and copy nothing.
        RebalancePlan fresh = ExpertLoadBalancer.RebalanceExperts(ExpertLoadGenerator.Generate(3, 32, seed: 5), 48, 4, 2, 8);
        int[] swapped = PlanAssertions.ToArray(fresh.PhysicalToLogical);
        for (int l = 0; l < 3; l++)
        {
            for (int node = 0; node < 2; node++)
            {
                int a = (l * 48) + (node * 24), b = a + 6;
                int[] first = swapped[a..(a + 6)], second = swapped[b..(b + 6)];
                Array.Reverse(first);
                second.CopyTo(swapped, a);
                first.CopyTo(swapped, b);
            }
        }

        RelabelledPlan relabelled = PlanRelabelling.Relabel(fresh, swapped);

        relabelled.Migration.Copies.Should().Be(0);
        relabelled.Migration.FreshCopies.Should().BeGreaterThan(0);
        PlanAssertions.ToArray(relabelled.Plan.PhysicalToLogical).Should().Equal(swapped, "stayers keep their slots");
    }

    // The fresh plan's GPUs, as multisets of experts, and each GPU's load, up to renumbering; whole nodes kept together
    // under the hierarchical policy; the same replica counts; log2phy consistent with phy2log.
    private static void AssertSameLoadsUpToLabels(RebalancePlan fresh, RebalancePlan relabelled)
    {
        int slots = fresh.NumPhysicalExperts, perGpu = slots / fresh.NumGpus, perNode = fresh.NumGpus / fresh.NumNodes;
        PlanAssertions.ToArray(relabelled.LogicalReplicaCount).Should().Equal(PlanAssertions.ToArray(fresh.LogicalReplicaCount));
        for (int l = 0; l < fresh.NumLayers; l++)
        {
            string[] Gpus(RebalancePlan p) => Enumerable.Range(0, p.NumGpus)
                .Select(g => string.Join(",", p.GetPhysicalToLogical(l).Slice(g * perGpu, perGpu).ToArray().Order())).Order().ToArray();
            Gpus(relabelled).Should().Equal(Gpus(fresh));
            if (fresh.Policy == RebalancePolicy.Hierarchical)
            {
                string[] Nodes(RebalancePlan p) => Enumerable.Range(0, p.NumNodes)
                    .Select(n => string.Join(",", p.GetPhysicalToLogical(l).Slice(n * perNode * perGpu, perNode * perGpu).ToArray().Order())).Order().ToArray();
                Nodes(relabelled).Should().Equal(Nodes(fresh));
            }

            for (int e = 0; e < fresh.NumLogicalExperts; e++)
            {
                foreach (int slot in relabelled.GetLogicalToPhysical(l, e))
                {
                    relabelled.GetPhysicalToLogical(l)[slot].Should().Be(e);
                }
            }
        }
    }

    private static void AssertStayersKeepTheirSlots(int[] old, RebalancePlan plan)
    {
        int slots = plan.NumPhysicalExperts, perGpu = slots / plan.NumGpus;
        for (int l = 0; l < plan.NumLayers; l++)
        {
            ReadOnlySpan<int> next = plan.GetPhysicalToLogical(l);
            for (int p = 0; p < slots; p++)
            {
                int expert = old[(l * slots) + p];
                ReadOnlySpan<int> gpu = next.Slice(p / perGpu * perGpu, perGpu);
                if (gpu.Contains(expert) && gpu.Count(expert) >= old.AsSpan((l * slots) + (p / perGpu * perGpu), perGpu).Count(expert))
                {
                    next[p].Should().Be(expert, $"layer {l}, slot {p}: expert {expert} stays on its GPU");
                }
            }
        }
    }

    private static void AssertMovesAreRight(int[] old, RelabelledPlan relabelled)
    {
        RebalancePlan plan = relabelled.Plan;
        int slots = plan.NumPhysicalExperts, perGpu = slots / plan.NumGpus, perNode = plan.NumGpus / plan.NumNodes;
        foreach (ExpertCopy copy in relabelled.Migration.Moves)
        {
            plan.GetPhysicalToLogical(copy.Layer)[copy.Slot].Should().Be(copy.Expert);
            (copy.Slot / perGpu).Should().Be(copy.Gpu);
            old.AsSpan((copy.Layer * slots) + (copy.Gpu * perGpu), perGpu).Contains(copy.Expert).Should().BeFalse("a copy brings what the GPU lacks");
            old.AsSpan((copy.Layer * slots) + (copy.SourceGpu * perGpu), perGpu).Contains(copy.Expert).Should().BeTrue("the source holds it");
            bool sameNodeHolder = Enumerable.Range(0, plan.NumGpus).Any(g => g / perNode == copy.Gpu / perNode
                && old.AsSpan((copy.Layer * slots) + (g * perGpu), perGpu).Contains(copy.Expert));
            (copy.SourceGpu / perNode == copy.Gpu / perNode).Should().Be(sameNodeHolder, "a source on the receiver's node when there is one");
        }
    }

    // Copies the plain way: per layer and GPU, the distinct experts it serves that it does not hold now.
    private static int CountCopies(int[] old, RebalancePlan plan)
    {
        int slots = plan.NumPhysicalExperts, perGpu = slots / plan.NumGpus, copies = 0;
        for (int l = 0; l < plan.NumLayers; l++)
        {
            for (int g = 0; g < plan.NumGpus; g++)
            {
                int[] had = old.AsSpan((l * slots) + (g * perGpu), perGpu).ToArray();
                copies += plan.GetPhysicalToLogical(l).Slice(g * perGpu, perGpu).ToArray().Where(e => e >= 0).Distinct().Count(e => !had.Contains(e));
            }
        }

        return copies;
    }

    // The fewest copies over every relabelling the policy allows.
    // Σ distinct experts per GPU less the best total overlap, by the dense Hungarian method over every GPU pair.
    private static int DenseOptimalCopies(RebalancePlan fresh, int[] old)
    {
        int gpus = fresh.NumGpus, perGpu = fresh.NumPhysicalExperts / gpus, total = 0;
        for (int l = 0; l < fresh.NumLayers; l++)
        {
            int[] next = fresh.GetPhysicalToLogical(l).ToArray(), had = old.AsSpan(l * fresh.NumPhysicalExperts, fresh.NumPhysicalExperts).ToArray();
            var overlap = new int[gpus, gpus];
            int distinct = 0;
            for (int g = 0; g < gpus; g++)
            {
                int[] experts = [.. next[(g * perGpu)..((g + 1) * perGpu)].Distinct()];
                distinct += experts.Length;
                for (int h = 0; h < gpus; h++)
                {
                    overlap[g, h] = experts.Count(e => had.AsSpan(h * perGpu, perGpu).Contains(e));
                }
            }

            total += distinct - AssignmentSolverTests.DenseHungarianTotal(overlap);
        }

        return total;
    }

    private static int BruteForceCopies(RebalancePlan fresh, int[] old)
    {
        int gpus = fresh.NumGpus, nodes = fresh.Policy == RebalancePolicy.Hierarchical ? fresh.NumNodes : 1, perNode = gpus / nodes;
        int perGpu = fresh.NumPhysicalExperts / gpus, total = 0;
        for (int l = 0; l < fresh.NumLayers; l++)
        {
            int[] next = fresh.GetPhysicalToLogical(l).ToArray(), had = old[(l * fresh.NumPhysicalExperts)..((l + 1) * fresh.NumPhysicalExperts)];
            int Copies(int newGpu, int position) => next[(newGpu * perGpu)..((newGpu + 1) * perGpu)].Distinct().Count(e => !had.AsSpan(position * perGpu, perGpu).Contains(e));
            int best = int.MaxValue;
            foreach (int[] nodeOrder in Permutations(nodes))
            {
                int copies = 0;
                for (int a = 0; a < nodes; a++)
                {
                    copies += Permutations(perNode).Min(within => Enumerable.Range(0, perNode).Sum(g => Copies((a * perNode) + g, (nodeOrder[a] * perNode) + within[g])));
                }

                best = Math.Min(best, copies);
            }

            total += best;
        }

        return total;
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        if (n == 0)
        {
            yield return [];
            yield break;
        }

        foreach (int[] rest in Permutations(n - 1))
        {
            for (int at = 0; at <= rest.Length; at++)
            {
                yield return [.. rest[..at], n - 1, .. rest[at..]];
            }
        }
    }
}
