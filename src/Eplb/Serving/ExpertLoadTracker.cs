using System.Numerics.Tensors;

namespace Eplb;

/// <summary>
/// Gathers expert loads for rebalancing: token counts per <c>[layer, expert]</c>, recorded from any thread on every
/// forward pass, kept as a sliding window of recent steps and as an exponential moving average.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Record(ReadOnlySpan{int})"/> adds counts to the step in progress; any number of threads may record at
/// once, and no count is lost. <see cref="EndStep"/> closes the step: it enters the window (the oldest step leaves)
/// and the moving average (<c>average = decay · average + (1 − decay) · step</c>; the first step is taken as it is).
/// Reads see closed steps only, so a plan is never made from half a step.
/// </para>
/// <para>
/// Memory: <c>layers × experts</c> doubles for the step in progress, the window's sum and the average, plus
/// <c>WindowSteps × layers × experts</c> floats for the window (DeepSeek-V3, 58 × 256, with a 100-step window:
/// 5.9 MB plus 356 KB). A record is one pass over the counts under a lock (about 10 µs at 58 × 256); a read one pass.
/// </para>
/// </remarks>
public sealed class ExpertLoadTracker
{
    private readonly Lock _gate = new();
    private readonly double[] _current;
    private readonly double[] _windowSum;
    private readonly double[] _average;
    private readonly float[] _window;
    private readonly float _decay;
    private int _windowNext;
    private int _windowFilled;
    private long _steps;

    /// <summary>Tracks <paramref name="numLayers"/> × <paramref name="numExperts"/> loads.</summary>
    /// <param name="numLayers">MoE layers.</param>
    /// <param name="numExperts">Logical experts per layer.</param>
    /// <param name="windowSteps">How many recent steps the window sums; 0 for no window.</param>
    /// <param name="decay">The moving average's weight on the past, in <c>[0, 1)</c>; 0 keeps the last step only. Ignored when <paramref name="movingAverage"/> is false.</param>
    /// <param name="movingAverage">Whether to keep the exponential moving average.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numLayers"/> or <paramref name="numExperts"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="windowSteps"/> is negative.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decay"/> is outside <c>[0, 1)</c>.</exception>
    /// <exception cref="ArgumentException">Neither a window nor a moving average is kept.</exception>
    /// <exception cref="ArgumentException">The loads, or the window, would exceed the largest array .NET can allocate.</exception>
    public ExpertLoadTracker(int numLayers, int numExperts, int windowSteps = 0, float decay = 0.9f, bool movingAverage = true)
    {
        ThrowHelper.ThrowIfNotPositive(numLayers, nameof(numLayers));
        ThrowHelper.ThrowIfNotPositive(numExperts, nameof(numExperts));
        if (windowSteps < 0)
        {
            ThrowHelper.ThrowOutOfRange(nameof(windowSteps), windowSteps, $"windowSteps must be 0 (no window) or positive, but is {windowSteps}.");
        }

        if (!(decay >= 0f && decay < 1f))
        {
            ThrowHelper.ThrowOutOfRange(nameof(decay), decay, $"decay must be at least 0 and less than 1, but is {decay}.");
        }

        if (windowSteps == 0 && !movingAverage)
        {
            ThrowHelper.Throw(nameof(windowSteps), "the tracker must keep a window (windowSteps > 0), a moving average, or both.");
        }

        ThrowHelper.ThrowIfProductTooLarge(numLayers, numExperts, nameof(numExperts));
        ThrowHelper.ThrowIfProductTooLarge((long)numLayers * numExperts, windowSteps, nameof(windowSteps));
        NumLayers = numLayers;
        NumExperts = numExperts;
        WindowSteps = windowSteps;
        HasMovingAverage = movingAverage;
        _decay = decay;
        int entries = numLayers * numExperts;
        _current = new double[entries];
        _windowSum = windowSteps > 0 ? new double[entries] : [];
        _window = new float[windowSteps * entries];
        _average = movingAverage ? new double[entries] : [];
    }

    /// <summary>The number of MoE layers tracked.</summary>
    public int NumLayers { get; }

    /// <summary>The number of logical experts per layer.</summary>
    public int NumExperts { get; }

    /// <summary>How many recent steps the window holds (0: none).</summary>
    public int WindowSteps { get; }

    /// <summary>Whether the exponential moving average is kept.</summary>
    public bool HasMovingAverage { get; }

    /// <summary>Steps closed so far.</summary>
    public long Steps => Interlocked.Read(ref _steps);

    /// <summary>Adds token counts, <c>[layers, experts]</c> row-major, to the step in progress.</summary>
    /// <param name="counts">Tokens routed to each expert of each layer; not negative.</param>
    /// <exception cref="ArgumentException"><paramref name="counts"/> is not <c>layers × experts</c> long, or holds a negative count.</exception>
    public void Record(ReadOnlySpan<int> counts)
    {
        ThrowIfWrongLength(counts.Length, nameof(counts));
        if (TensorPrimitives.Min(counts) < 0)
        {
            ThrowHelper.Throw(nameof(counts), $"counts must not be negative; the count at {counts.IndexOf(TensorPrimitives.Min(counts))} is {TensorPrimitives.Min(counts)}.");
        }

        lock (_gate)
        {
            for (int i = 0; i < counts.Length; i++)
            {
                _current[i] += counts[i];
            }
        }
    }

    /// <summary>Adds loads, <c>[layers, experts]</c> row-major, to the step in progress.</summary>
    /// <param name="loads">Loads of each expert of each layer: finite and non-negative.</param>
    /// <exception cref="ArgumentException"><paramref name="loads"/> is not <c>layers × experts</c> long, or holds a NaN, infinite or negative load.</exception>
    public void Record(ReadOnlySpan<float> loads)
    {
        ThrowIfWrongLength(loads.Length, nameof(loads));
        ThrowHelper.ThrowIfInvalidLoads(loads, NumExperts, nameof(loads));
        lock (_gate)
        {
            for (int i = 0; i < loads.Length; i++)
            {
                _current[i] += loads[i];
            }
        }
    }

    /// <summary>Closes the step in progress: it enters the window and the moving average, and a new step begins.</summary>
    public void EndStep()
    {
        lock (_gate)
        {
            int entries = _current.Length;
            if (WindowSteps > 0)
            {
                Span<float> slot = _window.AsSpan(_windowNext * entries, entries);
                for (int i = 0; i < entries; i++)
                {
                    float step = (float)_current[i];
                    _windowSum[i] += step - (_windowFilled == WindowSteps ? slot[i] : 0f);
                    slot[i] = step;
                }

                _windowNext = (_windowNext + 1) % WindowSteps;
                _windowFilled = Math.Min(_windowFilled + 1, WindowSteps);
            }

            if (HasMovingAverage)
            {
                bool first = _steps == 0;
                for (int i = 0; i < entries; i++)
                {
                    _average[i] = first ? _current[i] : (_decay * _average[i]) + ((1 - _decay) * _current[i]);
                }
            }

            Array.Clear(_current);
            Interlocked.Increment(ref _steps);
        }
    }

    /// <summary>The loads summed over the window's steps, <c>[layers, experts]</c> row-major, as <see cref="float"/>s.</summary>
    /// <exception cref="InvalidOperationException">The tracker keeps no window.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <c>layers × experts</c>.</exception>
    public void ReadWindow(Span<float> destination)
    {
        if (WindowSteps == 0)
        {
            throw new InvalidOperationException("This tracker keeps no window; create it with windowSteps > 0.");
        }

        Read(_windowSum, destination);
    }

    /// <summary>The exponential moving average of the steps' loads, <c>[layers, experts]</c> row-major.</summary>
    /// <exception cref="InvalidOperationException">The tracker keeps no moving average.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <c>layers × experts</c>.</exception>
    public void ReadMovingAverage(Span<float> destination)
    {
        if (!HasMovingAverage)
        {
            throw new InvalidOperationException("This tracker keeps no moving average; create it with movingAverage: true.");
        }

        Read(_average, destination);
    }

    /// <summary>The loads to plan from: the window's sum if there is a window, else the moving average.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <c>layers × experts</c>.</exception>
    public void ReadLoads(Span<float> destination) => Read(WindowSteps > 0 ? _windowSum : _average, destination);

    /// <summary>The loads to plan from (<see cref="ReadLoads"/>) as the <c>weight</c> matrix, <c>[layers, experts]</c>.</summary>
    public float[,] GetLoads()
    {
        var weight = new float[NumLayers, NumExperts];
        ReadLoads(MatrixMarshal.AsSpan(weight));
        return weight;
    }

    private void Read(double[] source, Span<float> destination)
    {
        ThrowHelper.ThrowIfDestinationTooShort(destination.Length, source.Length, nameof(destination));
        lock (_gate)
        {
            for (int i = 0; i < source.Length; i++)
            {
                // Sums of non-negative steps are not negative; clamp what rounding of a moving average could leave.
                destination[i] = (float)Math.Max(0, source[i]);
            }
        }
    }

    private void ThrowIfWrongLength(int length, string paramName)
    {
        if (length != _current.Length)
        {
            ThrowHelper.Throw(paramName, $"{paramName} must hold layers x experts = {_current.Length} counts, but holds {length}.");
        }
    }
}
