using BenchmarkDotNet.Attributes;

namespace Eplb.Benchmarks;

/// <summary>
/// What load tracking costs a server per forward pass and per plan: DeepSeek-V3's 58 × 256 counts recorded, a step
/// closed, and the loads read, with a 100-step window and a moving average. The baseline is a plain copy of the
/// counts, what the cheapest possible record would cost.
/// </summary>
[MemoryDiagnoser]
public class LoadTrackerBenchmarks
{
    private const int Layers = 58, Experts = 256;
    private readonly int[] _counts = new int[Layers * Experts];
    private readonly int[] _copy = new int[Layers * Experts];
    private readonly float[] _loads = new float[Layers * Experts];
    private ExpertLoadTracker _tracker = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] = random.Next(0, 2000);
        }

        _tracker = new ExpertLoadTracker(Layers, Experts, windowSteps: 100, decay: 0.9f);
        for (int step = 0; step < 100; step++)
        {
            _tracker.Record(_counts);
            _tracker.EndStep();
        }
    }

    [Benchmark(Baseline = true)]
    public void CopyCounts() => _counts.CopyTo(_copy, 0);

    [Benchmark]
    public void Record() => _tracker.Record(_counts);

    [Benchmark]
    public void EndStep() => _tracker.EndStep();

    [Benchmark]
    public void ReadLoads() => _tracker.ReadLoads(_loads);
}
