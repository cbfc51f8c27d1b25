namespace Eplb;

/// <summary>How a rebalance runs. Options never change the plan: every setting returns the same result.</summary>
public sealed class RebalanceOptions
{
    private readonly int _maxDegreeOfParallelism = 1;

    /// <summary>The default: one thread, the caller's.</summary>
    public static RebalanceOptions Default { get; } = new();

    /// <summary>
    /// How many threads may place layers at once: 1 (the default) runs on the calling thread; -1 uses every
    /// core. Layers are independent, so large models scale with cores; small ones are faster on one thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is 0 or less than -1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        init
        {
            if (value == 0 || value < -1)
            {
                ThrowHelper.ThrowOutOfRange(nameof(MaxDegreeOfParallelism), value, $"MaxDegreeOfParallelism must be positive or -1 (every core), but is {value}.");
            }

            _maxDegreeOfParallelism = value;
        }
    }

    internal int EffectiveDegree(int layers) =>
        Math.Min(layers, _maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : _maxDegreeOfParallelism);
}
