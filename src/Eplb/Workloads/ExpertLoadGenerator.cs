namespace Eplb.Workloads;

/// <summary>
/// Realistic, deterministic expert loads for samples, tests and benchmarks: per-layer token counts whose skew
/// matches published Mixture-of-Experts routing statistics, not the uniform or Zipf loads that flatter or
/// punish every balancer.
/// </summary>
/// <remarks>
/// <para>
/// Each layer draws <c>σ ~ U(0.3, 0.9)</c> and expert shares <c>LogNormal(0, σ)</c>; with probability 0.35,
/// 1–3 random experts become hot at <c>U(4, 15)</c> times the mean share; with group correlation, each expert group
/// is scaled by a <c>LogNormal(0, 0.5)</c> factor. Shares are normalised and <c>500 × experts</c> tokens are
/// drawn multinomially, so loads are integer token counts. Typical result: per-layer max/mean ≈ 6.5 and a
/// coefficient of variation ≈ 0.73 over 256 experts.
/// </para>
/// <para>
/// Series (<see cref="GenerateSeries"/>) drift each expert by <c>LogNormal(0, σ_drift)</c> per step, with a
/// per-layer <c>σ_drift ~ U(0.1, 0.3)</c>, and now and then (probability 0.05 per layer and step) hand the hot
/// experts' shares to others — a change of traffic domain. A <c>drift</c> below 1 scales both down: 0.25, the
/// "mild drift" of the README's migration figures, gives <c>σ_drift ~ U(0.025, 0.075)</c> and a domain change with
/// probability 0.0125.
/// </para>
/// <para>
/// The same arguments give the same loads on every platform and .NET version (<see cref="Random(int)"/>). The cost
/// is one draw per token: <c>500 × layers × experts</c> per window.
/// </para>
/// </remarks>
public static class ExpertLoadGenerator
{
    /// <summary>Tokens drawn per expert and layer.</summary>
    public const int TokensPerExpert = 500;

    /// <summary>
    /// The most experts per layer: 1,048,576 (2^20), half a billion tokens drawn per layer — far beyond any
    /// Mixture-of-Experts model, whose layers hold a few hundred experts.
    /// </summary>
    public const int MaxExperts = 1 << 20;

    private const double HotLayerProbability = 0.35;
    private const double DomainShiftProbability = 0.05;

    /// <summary>Generates one window of loads, <c>[numLayers, numExperts]</c>.</summary>
    /// <param name="numLayers">MoE layers; positive.</param>
    /// <param name="numExperts">Logical experts per layer; positive.</param>
    /// <param name="seed">The seed: equal seeds give equal loads.</param>
    /// <param name="numGroups">Expert groups, used by <paramref name="groupCorrelation"/>; must divide <paramref name="numExperts"/>.</param>
    /// <param name="groupCorrelation">Scale each group by a shared factor, so that some groups run hot as a whole.</param>
    /// <returns>Token counts, <c>[numLayers, numExperts]</c>; each layer sums to <c>500 × numExperts</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numLayers"/>, <paramref name="numExperts"/> or <paramref name="numGroups"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numExperts"/> is greater than <see cref="MaxExperts"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGroups"/> does not divide <paramref name="numExperts"/>.</exception>
    /// <exception cref="ArgumentException">The loads would exceed the largest array .NET can allocate.</exception>
    public static float[,] Generate(int numLayers, int numExperts, int seed, int numGroups = 1, bool groupCorrelation = false) =>
        GenerateSeries(1, numLayers, numExperts, seed, numGroups, groupCorrelation)[0];

    /// <summary>Generates a time series of load windows that drift from step to step.</summary>
    /// <param name="numSteps">Windows to generate; positive.</param>
    /// <param name="numLayers">MoE layers; positive.</param>
    /// <param name="numExperts">Logical experts per layer; positive.</param>
    /// <param name="seed">The seed: equal seeds give equal series.</param>
    /// <param name="numGroups">Expert groups, used by <paramref name="groupCorrelation"/>; must divide <paramref name="numExperts"/>.</param>
    /// <param name="groupCorrelation">Scale each group by a shared factor, so that some groups run hot as a whole.</param>
    /// <param name="drift">How fast loads drift, relative to the default of 1 (which scales <c>σ_drift</c> and the chance of a domain change); 0 to 1.</param>
    /// <returns><paramref name="numSteps"/> windows of token counts, each <c>[numLayers, numExperts]</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numSteps"/>, <paramref name="numLayers"/>, <paramref name="numExperts"/> or <paramref name="numGroups"/> is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="drift"/> is not within [0, 1].</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numExperts"/> is greater than <see cref="MaxExperts"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="numGroups"/> does not divide <paramref name="numExperts"/>.</exception>
    /// <exception cref="ArgumentException">The series would exceed the largest array .NET can allocate.</exception>
    public static float[][,] GenerateSeries(int numSteps, int numLayers, int numExperts, int seed, int numGroups = 1, bool groupCorrelation = false, double drift = 1.0)
    {
        if (!(drift >= 0 && drift <= 1))
        {
            ThrowHelper.ThrowOutOfRange(nameof(drift), drift, $"drift must be within [0, 1], but is {drift}.");
        }

        ThrowHelper.ThrowIfNotPositive(numSteps, nameof(numSteps));
        ThrowHelper.ThrowIfNotPositive(numLayers, nameof(numLayers));
        ThrowHelper.ThrowIfNotPositive(numExperts, nameof(numExperts));
        ThrowHelper.ThrowIfNotPositive(numGroups, nameof(numGroups));
        if (numExperts > MaxExperts)
        {
            ThrowHelper.ThrowOutOfRange(nameof(numExperts), numExperts, $"numExperts ({numExperts}) must be at most ExpertLoadGenerator.MaxExperts ({MaxExperts}).");
        }

        ThrowHelper.ThrowIfNotMultiple(numExperts, numGroups, nameof(numGroups), nameof(numExperts));
        ThrowHelper.ThrowIfProductTooLarge((long)numSteps * numLayers, numExperts, nameof(numExperts));

        var random = new Random(seed);
        var series = new float[numSteps][,];
        for (int step = 0; step < numSteps; step++)
        {
            series[step] = new float[numLayers, numExperts];
        }

        var shares = new double[numExperts];
        var sampler = new AliasSampler(numExperts);
        for (int layer = 0; layer < numLayers; layer++)
        {
            InitialShares(random, shares, numGroups, groupCorrelation);
            double sigma = drift * Uniform(random, 0.1, 0.3);
            for (int step = 0; step < numSteps; step++)
            {
                if (step > 0)
                {
                    Drift(random, shares, sigma, DomainShiftProbability * drift);
                }

                sampler.Reset(shares);
                float[,] window = series[step];
                for (long t = TokensPerLayer(numExperts); t > 0; t--)
                {
                    window[layer, sampler.Next(random)]++;
                }
            }
        }

        return series;
    }

    /// <summary>Tokens drawn per layer and window: <see cref="TokensPerExpert"/> per expert.</summary>
    internal static long TokensPerLayer(int numExperts) => (long)TokensPerExpert * numExperts;

    private static void InitialShares(Random random, double[] shares, int numGroups, bool groupCorrelation)
    {
        double sigma = Uniform(random, 0.3, 0.9);
        for (int e = 0; e < shares.Length; e++)
        {
            shares[e] = Math.Exp(sigma * Normal(random));
        }

        if (random.NextDouble() < HotLayerProbability)
        {
            double mean = shares.Average();
            for (int hot = random.Next(1, 4); hot > 0; hot--)
            {
                shares[random.Next(shares.Length)] = Uniform(random, 4, 15) * mean;
            }
        }

        if (groupCorrelation)
        {
            int groupSize = shares.Length / numGroups;
            for (int g = 0; g < numGroups; g++)
            {
                double factor = Math.Exp(0.5 * Normal(random));
                for (int i = 0; i < groupSize; i++)
                {
                    shares[(g * groupSize) + i] *= factor;
                }
            }
        }
    }

    private static void Drift(Random random, double[] shares, double sigma, double domainShiftProbability)
    {
        for (int e = 0; e < shares.Length; e++)
        {
            shares[e] *= Math.Exp(sigma * Normal(random));
        }

        if (random.NextDouble() < domainShiftProbability)
        {
            // A new traffic domain: the hottest experts trade places with random ones.
            for (int k = 0; k < Math.Min(3, shares.Length); k++)
            {
                int hottest = Array.IndexOf(shares, shares.Max());
                int other = random.Next(shares.Length);
                (shares[hottest], shares[other]) = (shares[other], shares[hottest]);
            }
        }
    }

    private static double Uniform(Random random, double low, double high) => low + ((high - low) * random.NextDouble());

    // Box-Muller: one standard normal per call.
    private static double Normal(Random random) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble());

    /// <summary>Walker's alias method: O(1) categorical draws, so a multinomial of many tokens stays cheap.</summary>
    private sealed class AliasSampler(int size)
    {
        private readonly double[] _probability = new double[size];
        private readonly int[] _alias = new int[size];
        private readonly int[] _small = new int[size];
        private readonly int[] _large = new int[size];

        public void Reset(double[] weights)
        {
            int n = weights.Length;
            double scale = n / weights.Sum();
            int smallCount = 0, largeCount = 0;
            for (int i = 0; i < n; i++)
            {
                _probability[i] = weights[i] * scale;
                if (_probability[i] < 1.0)
                {
                    _small[smallCount++] = i;
                }
                else
                {
                    _large[largeCount++] = i;
                }
            }

            while (smallCount > 0 && largeCount > 0)
            {
                int less = _small[--smallCount], more = _large[--largeCount];
                _alias[less] = more;
                _probability[more] -= 1.0 - _probability[less];
                if (_probability[more] < 1.0)
                {
                    _small[smallCount++] = more;
                }
                else
                {
                    _large[largeCount++] = more;
                }
            }

            while (largeCount > 0)
            {
                _probability[_large[--largeCount]] = 1.0;
            }

            while (smallCount > 0)
            {
                _probability[_small[--smallCount]] = 1.0; // rounding leftovers
            }
        }

        public int Next(Random random)
        {
            int column = random.Next(_probability.Length);
            return random.NextDouble() < _probability[column] ? column : _alias[column];
        }
    }
}
