using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>Load tracking: sums under concurrent recording, the window, the moving average, bad input.</summary>
public class ExpertLoadTrackerTests
{
    [Fact]
    public void Record_ManyThreadsAtOnce_LosesNoCount()
    {
        const int layers = 3, experts = 16, threads = 8, recordsPerThread = 2000;
        var tracker = new ExpertLoadTracker(layers, experts, windowSteps: 4);

        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, thread =>
        {
            var counts = new int[layers * experts];
            for (int i = 0; i < counts.Length; i++)
            {
                counts[i] = thread + i; // each thread its own counts, so a lost record shows
            }

            for (int r = 0; r < recordsPerThread; r++)
            {
                tracker.Record(counts);
            }
        });
        tracker.EndStep();

        var loads = new float[layers * experts];
        tracker.ReadWindow(loads);
        for (int i = 0; i < loads.Length; i++)
        {
            float expected = recordsPerThread * Enumerable.Range(0, threads).Sum(thread => thread + i);
            loads[i].Should().Be(expected, $"entry {i}");
        }
    }

    [Fact]
    public void EndStep_MoreStepsThanTheWindow_SumsTheLastOnes()
    {
        var tracker = new ExpertLoadTracker(1, 2, windowSteps: 2, movingAverage: false);
        foreach (int[] step in new[] { new[] { 1, 10 }, new[] { 2, 20 }, new[] { 4, 40 } })
        {
            tracker.Record(step);
            tracker.EndStep();
        }

        tracker.GetLoads().Should().BeEquivalentTo(new float[,] { { 6, 60 } });
        tracker.Steps.Should().Be(3);
    }

    [Fact]
    public void ReadMovingAverage_ThreeSteps_IsTheHandComputedAverage()
    {
        var tracker = new ExpertLoadTracker(1, 2, decay: 0.5f);
        foreach (float[] step in new[] { new[] { 8f, 0f }, new[] { 0f, 8f }, new[] { 4f, 4f } })
        {
            tracker.Record(step);
            tracker.EndStep();
        }

        // 8 → 0.5·8 + 0.5·0 = 4 → 0.5·4 + 0.5·4 = 4; 0 → 4 → 0.5·4 + 0.5·4 = 4.
        var average = new float[2];
        tracker.ReadMovingAverage(average);
        average.Should().Equal(4f, 4f);

        tracker.Record([8f, 0f]);
        tracker.EndStep();
        tracker.ReadLoads(average);
        average.Should().Equal([6f, 2f], "without a window the loads are the moving average");
    }

    [Fact]
    public void Read_StepInProgress_IsNotSeen()
    {
        var tracker = new ExpertLoadTracker(1, 1, windowSteps: 3);
        tracker.Record([5]);
        tracker.EndStep();
        tracker.Record([100]);

        tracker.GetLoads()[0, 0].Should().Be(5);
    }

    [Fact]
    public void Record_BadCounts_ThrowsNamingTheRule()
    {
        var tracker = new ExpertLoadTracker(2, 2);

        FluentActions.Invoking(() => tracker.Record([1, 2, 3])).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "counts" && e.Message.Contains("layers x experts = 4"));
        FluentActions.Invoking(() => tracker.Record([1, -2, 3, 4])).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "counts" && e.Message.Contains("-2"));
        FluentActions.Invoking(() => tracker.Record([1f, float.NaN, 3f, 4f])).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "loads");
        FluentActions.Invoking(() => tracker.ReadLoads(new float[3])).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "destination");
    }

    [Theory]
    [InlineData(0, 4, 0, 0.9f, true, "numLayers")]
    [InlineData(2, -1, 0, 0.9f, true, "numExperts")]
    [InlineData(2, 4, -1, 0.9f, true, "windowSteps")]
    [InlineData(2, 4, 0, 1f, true, "decay")]
    [InlineData(2, 4, 0, float.NaN, true, "decay")]
    [InlineData(2, 4, 0, 0.9f, false, "windowSteps")]
    [InlineData(1 << 20, 1 << 20, 0, 0.9f, true, "numExperts")]
    public void Constructor_BadArguments_ThrowsNamingTheParameter(int layers, int experts, int window, float decay, bool average, string parameter)
    {
        FluentActions.Invoking(() => new ExpertLoadTracker(layers, experts, window, decay, average)).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == parameter);
    }

    [Fact]
    public void ReadWindow_NoWindowKept_ThrowsInvalidOperation()
    {
        FluentActions.Invoking(() => new ExpertLoadTracker(1, 1).ReadWindow(new float[1])).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => new ExpertLoadTracker(1, 1, windowSteps: 2, movingAverage: false).ReadMovingAverage(new float[1]))
            .Should().Throw<InvalidOperationException>();
    }
}
