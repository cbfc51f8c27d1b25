using System.Diagnostics;

namespace Eplb.Cli;

/// <summary>In-process timing of a call, after the JIT has had time to optimise it.</summary>
internal static class Timing
{
    // Tiered compilation promotes a method to optimised code after about 30 calls and a background delay of
    // about 100 ms; counting calls alone would time unoptimised code.
    private static readonly TimeSpan s_warmUp = TimeSpan.FromMilliseconds(600);

    /// <summary>Warms <paramref name="call"/> up, then returns the duration of each of <paramref name="iterations"/> calls, sorted, in microseconds.</summary>
    public static double[] Measure(Action call, int iterations, out int warmUpCalls)
    {
        warmUpCalls = 0;
        long start = Stopwatch.GetTimestamp();
        while (warmUpCalls < 50 || Stopwatch.GetElapsedTime(start) < s_warmUp)
        {
            call();
            warmUpCalls++;
        }

        var micros = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long begin = Stopwatch.GetTimestamp();
            call();
            micros[i] = Stopwatch.GetElapsedTime(begin).TotalMicroseconds;
        }

        Array.Sort(micros);
        return micros;
    }

    public static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}
