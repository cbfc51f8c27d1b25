using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>
/// The README's serving loop, line for line, driven by a drifting series; the GPUs' memory is simulated, so that the
/// migration the loop performs is checked copy by copy against the plan it switches to.
/// </summary>
public class ServingLoopExampleTests
{
    private const int Layers = 58, Experts = 256, Replicas = 288, Groups = 8, Nodes = 4, Gpus = 32;
    private const int SlotsPerGpu = Replicas / Gpus;

    private readonly ExpertLoadTracker _tracker = new(Layers, Experts, windowSteps: 50);
    private readonly int[] _inForce = new int[Layers * Replicas];

    // What each GPU holds, per layer: the experts whose weights are in its memory.
    private readonly HashSet<int>[,] _memory = new HashSet<int>[Layers, Gpus];
    private int _migrations;
    private int _copies;

    [Fact]
    public void ServingLoop_ReadmeExample_MigratesOnlyWhenWorthItAndEveryGpuEndsWithItsExperts()
    {
        // At start-up: any placement will do, e.g. a plan for uniform loads.
        ExpertLoadBalancer.RebalanceExperts(new float[Layers, Experts], Replicas, Groups, Nodes, Gpus)
            .PhysicalToLogical.FlattenTo(_inForce);
        LoadMemoryFromPlacement();

        float[][,] series = ExpertLoadGenerator.GenerateSeries(6, Layers, Experts, seed: 11, numGroups: Groups, groupCorrelation: true);
        var passes = new int[Layers * Experts];
        double firstBalancedness = double.NaN, lastBalancedness = double.NaN;
        foreach (float[,] window in series)
        {
            // 50 forward passes of this window's routing, each recorded by four threads at once (micro-batches).
            ToCounts(window, passes);
            for (int pass = 0; pass < 50; pass++)
            {
                Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => _tracker.Record(passes));
                _tracker.EndStep();
            }

            RebalanceDecision? decision = MaybeRebalance();
            decision.Should().NotBeNull();
            firstBalancedness = double.IsNaN(firstBalancedness) ? decision!.BalancednessNow : firstBalancedness;
            lastBalancedness = PlacementDiagnostics.Analyze(MatrixMarshal.AsSpan(window), Layers, _inForce, Gpus, Nodes).Balancedness;
        }

        _migrations.Should().BeInRange(1, series.Length, "the uniform start-up plan is worth replacing, and no window can migrate twice");
        _copies.Should().BeGreaterThan(0);
        firstBalancedness.Should().BeLessThan(0.7, "a plan for uniform loads balances skewed ones badly");
        float[,] last = series[^1];
        double freshBalancedness = PlacementDiagnostics.Analyze(last, ExpertLoadBalancer.RebalanceExperts(last, Replicas, Groups, Nodes, Gpus)).Balancedness;
        lastBalancedness.Should().BeGreaterThanOrEqualTo(freshBalancedness - 0.02, "the loop keeps in force a plan within its threshold of a fresh one");
        AssertMemoryHoldsPlacement();
    }

    // The README's MaybeRebalance, with the decision returned for the test.
    private RebalanceDecision? MaybeRebalance()
    {
        float[,] loads = _tracker.GetLoads();
        RebalancePlan fresh = ExpertLoadBalancer.RebalanceExperts(loads, Replicas, Groups, Nodes, Gpus);
        RelabelledPlan next = PlanRelabelling.Relabel(fresh, _inForce);    // the same loads per GPU, the fewest copies
        RebalanceDecision decision = RebalanceDecision.Evaluate(loads, _inForce, next, minimumGain: 0.02);
        if (!decision.ShouldRebalance)
        {
            return decision;                                               // not worth its copies
        }

        foreach (ExpertCopy copy in next.Migration.Moves)
        {
            CopyExpertWeights(copy);                                       // your transport: NCCL, NVLink, ...
        }

        next.Plan.PhysicalToLogical.FlattenTo(_inForce);                  // then route with next.Plan's log2phy
        DropWeightsNotInPlacement();
        _migrations++;
        return decision;
    }

    private void CopyExpertWeights(ExpertCopy copy)
    {
        copy.SourceGpu.Should().BeGreaterThanOrEqualTo(0, "every expert is held somewhere before the migration");
        _memory[copy.Layer, copy.SourceGpu].Should().Contain(copy.Expert, "a copy's source holds the expert");
        _memory[copy.Layer, copy.Gpu].Add(copy.Expert).Should().BeTrue("a GPU receives an expert it lacks, once");
        copy.Slot.Should().BeInRange(copy.Gpu * SlotsPerGpu, ((copy.Gpu + 1) * SlotsPerGpu) - 1, "the slot is on the receiving GPU");
        _copies++;
    }

    private void LoadMemoryFromPlacement()
    {
        for (int l = 0; l < Layers; l++)
        {
            for (int g = 0; g < Gpus; g++)
            {
                _memory[l, g] = [.. _inForce.AsSpan((l * Replicas) + (g * SlotsPerGpu), SlotsPerGpu).ToArray()];
            }
        }
    }

    // After a migration a GPU keeps only what its new slots hold.
    private void DropWeightsNotInPlacement()
    {
        for (int l = 0; l < Layers; l++)
        {
            for (int g = 0; g < Gpus; g++)
            {
                int[] slots = _inForce.AsSpan((l * Replicas) + (g * SlotsPerGpu), SlotsPerGpu).ToArray();
                slots.Should().OnlyContain(expert => _memory[l, g].Contains(expert), "layer {0}, GPU {1} received all it serves", l, g);
                _memory[l, g].IntersectWith(slots);
            }
        }
    }

    private void AssertMemoryHoldsPlacement()
    {
        for (int l = 0; l < Layers; l++)
        {
            for (int g = 0; g < Gpus; g++)
            {
                _memory[l, g].Should().BeEquivalentTo(_inForce.AsSpan((l * Replicas) + (g * SlotsPerGpu), SlotsPerGpu).ToArray().Distinct());
            }
        }
    }

    private static void ToCounts(float[,] window, int[] counts)
    {
        ReadOnlySpan<float> loads = MatrixMarshal.AsSpan(window);
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = (int)loads[i];
        }
    }
}
