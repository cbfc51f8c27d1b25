namespace Eplb;

/// <summary>What a rebalance plans, and how it runs.</summary>
/// <remarks>
/// Options are of two kinds, and each says which it is. Options that choose <em>what</em> to plan — which algorithm,
/// which tie order — change the plan, and say so. Options that choose <em>how</em> to run, such as
/// <see cref="MaxDegreeOfParallelism"/>, never change it: for given loads and options, the plan is the same on every
/// machine, instruction set, core count and thread timing. The defaults plan exactly what <c>eplb.py</c> returns.
/// </remarks>
public sealed class RebalanceOptions
{
    private readonly RebalanceAlgorithm _algorithm = RebalanceAlgorithm.Reference;
    private readonly int _maxDegreeOfParallelism = 1;
    private readonly TieOrder _tieOrder = TieOrder.LibStdCxx;
    private readonly int[] _unavailableGpus = [];

    /// <summary>The default: the reference algorithm, libstdc++'s tie order, on one thread, the caller's.</summary>
    public static RebalanceOptions Default { get; } = new();

    /// <summary>
    /// Which algorithm plans: <see cref="RebalanceAlgorithm.Reference"/> (the default, exactly <c>eplb.py</c>) or
    /// <see cref="RebalanceAlgorithm.Refined"/> (better balance, no wasted duplicate slots, never a busier GPU than the
    /// reference's in any layer). Changes the plan.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="RebalanceAlgorithm"/>.</exception>
    public RebalanceAlgorithm Algorithm
    {
        get => _algorithm;
        init
        {
            ThrowHelper.ThrowIfUndefined(value, nameof(Algorithm));
            _algorithm = value;
        }
    }

    /// <summary>
    /// Whose sort breaks ties: the PyTorch build whose <c>eplb.py</c> the plan reproduces exactly. Changes the plan
    /// (which of equal loads comes first, hence which replica or group lands where); never the machine it is computed on.
    /// </summary>
    /// <remarks>
    /// <see cref="TieOrder.LibStdCxx"/> (the default) matches PyTorch up to 2.7 and builds for CPUs without AVX2 (ARM);
    /// <see cref="TieOrder.X86SimdSortAvx512"/> and <see cref="TieOrder.X86SimdSortAvx2"/> match later releases on
    /// x86 CPUs with AVX-512 and with AVX2 only. Per-GPU loads are the same under every order except where group loads
    /// tie. The README shows how to tell which your PyTorch uses.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="Eplb.TieOrder"/>.</exception>
    public TieOrder TieOrder
    {
        get => _tieOrder;
        init
        {
            ThrowHelper.ThrowIfUndefined(value, nameof(TieOrder));
            _tieOrder = value;
        }
    }

    /// <summary>
    /// How many threads may place layers at once: 1 (the default) runs on the calling thread; -1 uses every core.
    /// Never changes the plan.
    /// </summary>
    /// <remarks>
    /// Layers are independent, so large models scale with cores; a call of a few hundred microseconds (a
    /// DeepSeek-V3-sized model) is faster on one thread. On one thread the <c>Try</c> overloads allocate nothing in
    /// steady state; with more, the thread pool's scheduling allocates about 2 KB per call, whatever the model's size.
    /// </remarks>
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

    /// <summary>
    /// GPUs out of service (failed, drained): the plan gives them no replica — their slots hold <c>-1</c> in
    /// <c>phy2log</c> and appear nowhere in <c>log2phy</c> — and spreads the load over the others. Changes the plan.
    /// Empty by default.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The plan is then exactly the reference's global plan for the healthy GPUs' slots (<c>numReplicas</c> less the
    /// unavailable GPUs' share, on <c>numGpus</c> less their number of GPUs), with each healthy GPU's slots moved to
    /// its own number: every expert keeps at least one replica, and the balance is the reference's for that many GPUs.
    /// </para>
    /// <para>
    /// The hierarchical policy does not apply while a GPU is out: its node would hold fewer GPUs than the others, and
    /// the reference packs equal nodes only. The plan is global (<see cref="RebalancePlan.Policy"/> says so), so a
    /// group's experts may span nodes until the GPU returns; <see cref="PlanRelabelling"/> then keeps as many
    /// replicas where they were as it can.
    /// </para>
    /// <para>
    /// Ids are checked when a plan is made: each within <c>[0, numGpus)</c>, none twice, and the healthy GPUs' slots
    /// at least the number of logical experts — else an <see cref="ArgumentException"/> for <c>options</c>.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value holds a negative GPU id.</exception>
    public IReadOnlyList<int> UnavailableGpus
    {
        get => _unavailableGpus;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            int[] gpus = [.. value];
            foreach (int gpu in gpus)
            {
                if (gpu < 0)
                {
                    ThrowHelper.ThrowOutOfRange(nameof(UnavailableGpus), gpu, $"UnavailableGpus must hold GPU ids, which are not negative, but holds {gpu}.");
                }
            }

            _unavailableGpus = gpus;
        }
    }

    /// <summary>The threads a call of <paramref name="layers"/> layers uses: no more than layers.</summary>
    internal int EffectiveDegree(int layers) =>
        Math.Min(layers, _maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : _maxDegreeOfParallelism);
}
