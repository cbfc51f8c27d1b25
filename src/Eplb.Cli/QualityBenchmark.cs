using System.Diagnostics;
using Eplb.Workloads;

namespace Eplb.Cli;

/// <summary>One model shape and cluster of docs/load-model.md.</summary>
internal sealed record QualityConfig(string Model, int Layers, int Experts, int Groups, int Replicas, int Nodes, int Gpus)
{
    public int SlotsPerGpu => Replicas / Gpus;

    public bool Hierarchical => Groups % Nodes == 0;

    public string Cluster => $"({Replicas}, {Groups}, {Nodes}, {Gpus})";
}

/// <summary>How one algorithm fares on one kind of loads: per-layer averages, and the worst layer.</summary>
internal sealed record AlgorithmScore(double MeanExcess, double WorstExcess, double Balancedness, double DuplicatesPerLayer, double NextWindow, double Milliseconds);

/// <summary>Reference and refined side by side on one configuration and kind of loads.</summary>
internal sealed record QualityRow(QualityConfig Config, string Loads, AlgorithmScore Reference, AlgorithmScore Refined, double LocalityCost)
{
    public string Bound => Config.Hierarchical ? "LB_hier" : "LB";

    /// <summary>The share of the reference's excess over the bound that refined removes.</summary>
    public double Removed => Reference.MeanExcess <= 0 ? double.NaN : 1 - (Refined.MeanExcess / Reference.MeanExcess);
}

/// <summary>Copies and balance of one migration strategy over a drifting series.</summary>
internal sealed record MigrationRow(double Drift, string Strategy, double CopiesPerLayer, double CopiedShare, double Balancedness, double NextWindow);

/// <summary>
/// The quality benchmark of docs/quality.md: reference and refined plans on calibrated, group-correlated and Zipf
/// loads for the model shapes of docs/load-model.md, and migration strategies on drifting series. Deterministic loads;
/// only the run times vary from machine to machine.
/// </summary>
internal static class QualityBenchmark
{
    public static readonly QualityConfig[] Configs =
    [
        new("DeepSeek-V3", 58, 256, 8, 288, 4, 32),
        new("DeepSeek-V3", 58, 256, 8, 320, 8, 64),
        new("DeepSeek-V3", 58, 256, 8, 288, 18, 144),
        new("DeepSeek-V3", 58, 256, 8, 320, 40, 320),
        new("Qwen3-like", 94, 128, 1, 144, 2, 16),
        new("Qwen3-like", 94, 128, 1, 160, 4, 32),
        new("Kimi-K2-like", 60, 384, 1, 448, 8, 64),
    ];

    public static readonly int[] Budgets = [16, 32, 64];


    public static readonly double[] Drifts = [0.1, 0.25, 1.0];

    private static readonly RebalanceOptions s_refined = new() { Algorithm = RebalanceAlgorithm.Refined };

    /// <summary>
    /// Every configuration on every kind of loads it has; <paramref name="layers"/> overrides the model's layer count
    /// (0: keep); each algorithm runs untimed for <paramref name="warmUpMilliseconds"/> before its timed calls.
    /// </summary>
    public static List<QualityRow> Compare(int layers, int timingRuns, int warmUpMilliseconds, Action<string> progress)
    {
        var rows = new List<QualityRow>();
        if (warmUpMilliseconds > 0)
        {
            // Tiered compilation optimises a method after some tens of calls: make them on two-layer models first.
            foreach (QualityConfig model in Configs)
            {
                float[,] small = ExpertLoadGenerator.Generate(2, model.Experts, seed: 1, model.Groups);
                for (int i = 0; i < 60; i++)
                {
                    Rebalance(model, small, RebalanceOptions.Default);
                    Rebalance(model, small, s_refined);
                }
            }
        }

        foreach (QualityConfig model in Configs)
        {
            QualityConfig c = layers > 0 ? model with { Layers = layers } : model;
            foreach (string kind in c.Groups > 1 ? new[] { "calibrated", "grouped", "zipf" } : ["calibrated", "zipf"])
            {
                float[][,] windows = Windows(c, kind);
                rows.Add(Compare(c, kind, windows[0], windows[1], new Timing(timingRuns, warmUpMilliseconds)));
                progress($"{c.Model} {c.Cluster} {kind}: done");
            }
        }

        return rows;
    }

    /// <summary>Fresh reference plans, relabelled ones and budgeted ones over <paramref name="steps"/> drifting steps.</summary>
    public static List<MigrationRow> Migrate(QualityConfig c, int steps, Action<string> progress)
    {
        var rows = new List<MigrationRow>();
        foreach (double drift in Drifts)
        {
            float[][,] series = ExpertLoadGenerator.GenerateSeries(steps + 2, c.Layers, c.Experts, seed: 3, c.Groups, groupCorrelation: false, drift);
            RebalancePlan first = Rebalance(c, series[0], RebalanceOptions.Default);
            int strategies = 2 + Budgets.Length;
            var inForce = new int[strategies][];
            for (int s = 0; s < strategies; s++)
            {
                inForce[s] = Flattening.Flat(first.PhysicalToLogical);
            }

            var copies = new double[strategies];
            var balance = new double[strategies];
            var next = new double[strategies];
            for (int t = 1; t <= steps; t++)
            {
                float[,] now = series[t], after = series[t + 1];
                RebalancePlan fresh = Rebalance(c, now, RebalanceOptions.Default);
                for (int s = 0; s < strategies; s++)
                {
                    (RebalancePlan plan, int copied) = s switch
                    {
                        0 => (fresh, PlanMigration.Between(inForce[s], fresh).Copies),
                        1 => Taken(PlanRelabelling.Relabel(fresh, inForce[s])),
                        _ => Taken(BudgetedRebalance.RebalanceExperts(now, inForce[s], c.Replicas, c.Groups, c.Nodes, c.Gpus, Budgets[s - 2])),
                    };
                    copies[s] += copied;
                    balance[s] += PlacementDiagnostics.Analyze(now, plan).Balancedness;
                    next[s] += PlacementDiagnostics.Analyze(after, plan).Balancedness;
                    inForce[s] = Flattening.Flat(plan.PhysicalToLogical);
                }
            }

            for (int s = 0; s < strategies; s++)
            {
                string name = s switch { 0 => "fresh reference plans", 1 => "relabelled (--previous)", _ => $"budgeted, K = {Budgets[s - 2]}" };
                double perLayer = copies[s] / steps / c.Layers;
                rows.Add(new MigrationRow(drift, name, perLayer, perLayer / c.Replicas, balance[s] / steps, next[s] / steps));
            }

            progress($"migration at drift {drift}: done");
        }

        return rows;
    }

    private readonly record struct Timing(int Runs, int WarmUpMilliseconds);

    private static (RebalancePlan Plan, int Copies) Taken(RelabelledPlan p) => (p.Plan, p.Migration.Copies);

    private static QualityRow Compare(QualityConfig c, string kind, float[,] weight, float[,] nextWindow, Timing timing)
    {
        var bounds = new double[c.Layers];
        double locality = 0;
        var row = new float[c.Experts];
        for (int l = 0; l < c.Layers; l++)
        {
            for (int e = 0; e < c.Experts; e++)
            {
                row[e] = weight[l, e];
            }

            double global = LoadBounds.LowerBound(row, c.Replicas, c.Gpus);
            bounds[l] = c.Hierarchical ? LoadBounds.HierarchicalLowerBound(row, c.Replicas, c.Groups, c.Nodes, c.Gpus) : global;
            locality += c.Hierarchical && global > 0 ? bounds[l] / global : 1;
        }

        return new QualityRow(c, kind, Score(c, weight, nextWindow, bounds, RebalanceOptions.Default, timing),
            Score(c, weight, nextWindow, bounds, s_refined, timing), locality / c.Layers);
    }

    private static AlgorithmScore Score(QualityConfig c, float[,] weight, float[,] nextWindow, double[] bounds, RebalanceOptions options, Timing timing)
    {
        RebalancePlan plan = Rebalance(c, weight, options);

        // Warm up for a while, so that the JIT has optimised the code the timed calls run (as a server's would be).
        long warmUp = Stopwatch.GetTimestamp();
        for (int i = 0; i < 3 || Stopwatch.GetElapsedTime(warmUp).TotalMilliseconds < timing.WarmUpMilliseconds; i++)
        {
            Rebalance(c, weight, options);
        }

        var times = new double[timing.Runs];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Rebalance(c, weight, options);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        PlacementDiagnostics d = PlacementDiagnostics.Analyze(weight, plan);
        double excess = 0, worst = 0, duplicates = 0;
        for (int l = 0; l < c.Layers; l++)
        {
            double over = bounds[l] == 0 ? 0 : (d.Layers[l].MaxGpuLoad / bounds[l]) - 1;
            excess += over;
            worst = Math.Max(worst, over);
            duplicates += d.Layers[l].Duplicates;
        }

        return new AlgorithmScore(excess / c.Layers, worst, d.Balancedness, duplicates / c.Layers, PlacementDiagnostics.Analyze(nextWindow, plan).Balancedness, times[times.Length / 2]);
    }

    private static RebalancePlan Rebalance(QualityConfig c, float[,] weight, RebalanceOptions options) =>
        ExpertLoadBalancer.RebalanceExperts(weight, c.Replicas, c.Groups, c.Nodes, c.Gpus, options);

    // Two windows a step apart: the plan is made on the first and judged again on the second.
    private static float[][,] Windows(QualityConfig c, string kind) => kind switch
    {
        "grouped" => ExpertLoadGenerator.GenerateSeries(2, c.Layers, c.Experts, seed: 11, c.Groups, groupCorrelation: true),
        "zipf" => [Zipf(c, seed: 13), Zipf(c, seed: 14)],
        _ => ExpertLoadGenerator.GenerateSeries(2, c.Layers, c.Experts, seed: 11, c.Groups),
    };

    // The stress case: per layer Zipf(α ~ U(1.0, 1.2)) over the experts in a random order, 500 tokens per expert.
    private static float[,] Zipf(QualityConfig c, int seed)
    {
        var random = new Random(seed);
        var w = new float[c.Layers, c.Experts];
        var rank = new int[c.Experts];
        for (int l = 0; l < c.Layers; l++)
        {
            double alpha = 1.0 + (0.2 * random.NextDouble()), total = 0;
            for (int e = 0; e < c.Experts; e++)
            {
                rank[e] = e + 1;
                total += Math.Pow(e + 1, -alpha);
            }

            random.Shuffle(rank);
            for (int e = 0; e < c.Experts; e++)
            {
                w[l, e] = (float)Math.Round(500.0 * c.Experts * Math.Pow(rank[e], -alpha) / total);
            }
        }

        return w;
    }
}
