using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// Where each replica of a relabelled GPU goes within its new GPU, and how many experts the GPU must receive: an
/// expert the GPU holds now keeps its slot (a server moves nothing for it), the others take the slots left, in
/// order, and each expert the GPU does not hold yet is one copy.
/// </summary>
/// <remarks>
/// A replica whose expert the GPU holds in several slots keeps the lowest slot not kept by an earlier replica. GPUs of
/// up to 16 slots — every DeepSeek-V3 configuration — are matched with their slots in one vector
/// (<see cref="MatchSmallGpu"/>), two-slot GPUs by the rules spelled out (<see cref="MatchTwoSlotGpu"/>), larger ones
/// through per-expert slot lists (<see cref="MatchLargeGpu"/>). All give the same result.
/// </remarks>
internal sealed class SlotMatching
{
    /// <summary>The most slots per GPU that <see cref="MatchSmallGpu"/> takes: one vector of them, and a mask bit each.</summary>
    public const int SmallGpuSlots = 16;

    // Fills the unused lanes of a small GPU's vectors: no expert (nor -1, an unavailable slot) equals it.
    private const int NoExpert = int.MinValue;

    private int[] _firstSlot = [];
    private int[] _nextSlot = [];
    private int[] _newGpuOn = [];
    private int[] _takenIn = [];
    private int _gpuRound;
    private readonly ExpertMarks _held = new();
    private readonly ExpertMarks _received = new();

    /// <summary>
    /// Writes <c>slotOf[s]</c>, the slot that the fresh plan's slot <c>s</c> takes, given the GPU each fresh GPU
    /// becomes.
    /// </summary>
    /// <returns>The layer's copies.</returns>
    public int Match(ReadOnlySpan<int> next, ReadOnlySpan<int> old, ReadOnlySpan<int> position, int experts, Span<int> slotOf)
    {
        int gpus = position.Length, perGpu = next.Length / gpus;
        Scratch.Grow(ref _newGpuOn, gpus);
        for (int g = 0; g < gpus; g++)
        {
            _newGpuOn[position[g]] = g;
        }

        if (perGpu > SmallGpuSlots)
        {
            Scratch.Grow(ref _firstSlot, experts);
            if (_nextSlot.Length < perGpu)
            {
                _nextSlot = new int[perGpu];
                _takenIn = new int[perGpu];
                _gpuRound = 0;
            }

            _held.Reset(experts);
            _received.Reset(experts);
        }

        int copies = 0;
        Vector512<int> inGpu = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(perGpu));
        for (int gpu = 0; gpu < gpus; gpu++)
        {
            int target = gpu * perGpu, source = _newGpuOn[gpu] * perGpu;
            ReadOnlySpan<int> had = old.Slice(target, perGpu), gets = next.Slice(source, perGpu);
            Span<int> slots = slotOf.Slice(source, perGpu);
            if (perGpu == 1)
            {
                slots[0] = target;
                copies += gets[0] >= 0 && gets[0] != had[0] ? 1 : 0;
            }
            else if (perGpu == 2)
            {
                copies += MatchTwoSlotGpu(had, gets, slots, target);
            }
            else
            {
                copies += perGpu <= SmallGpuSlots
                    ? MatchSmallGpu(gets, slots, target, Lanes(old, target, perGpu, inGpu), Lanes(next, source, perGpu, inGpu))
                    : MatchLargeGpu(had, gets, slots, target);
            }
        }

        return copies;
    }

    /// <summary>
    /// One GPU of two slots (EP144 decode), the same rules spelled out: a replica keeps the lower old slot holding its
    /// expert that the first replica did not keep; a replica keeping none takes the slot left (both waiting: in order).
    /// </summary>
    private static int MatchTwoSlotGpu(ReadOnlySpan<int> had, ReadOnlySpan<int> gets, Span<int> slots, int target)
    {
        int first = gets[0], second = gets[1], had0 = had[0], had1 = had[1];
        int keep0 = first < 0 ? -1 : had0 == first ? 0 : had1 == first ? 1 : -1;
        int keep1 = second < 0 ? -1 : had0 == second && keep0 != 0 ? 0 : had1 == second && keep0 != 1 ? 1 : -1;
        keep0 = keep0 >= 0 ? keep0 : keep1 == 0 ? 1 : 0;
        keep1 = keep1 >= 0 ? keep1 : keep0 == 0 ? 1 : 0;
        slots[0] = target + keep0;
        slots[1] = target + keep1;
        int copies = first >= 0 && had0 != first && had1 != first ? 1 : 0;
        return copies + (second >= 0 && second != first && had0 != second && had1 != second ? 1 : 0);
    }

    /// <summary>
    /// One GPU of at most <see cref="SmallGpuSlots"/> slots: the old slots holding a replica's expert are one vector
    /// compare, the slots kept so far a mask, and a replica's expert is a copy if no old slot and no earlier new slot
    /// holds it.
    /// </summary>
    private static int MatchSmallGpu(ReadOnlySpan<int> gets, Span<int> slots, int target, Vector512<int> hadLanes, Vector512<int> getsLanes)
    {
        uint kept = 0, waiting = 0, heldBefore = 0;
        int copies = 0;
        for (int s = 0; s < gets.Length; s++)
        {
            int expert = gets[s];
            uint holding = expert >= 0 ? (uint)Vector512.Equals(hadLanes, Vector512.Create(expert)).ExtractMostSignificantBits() : 0u;
            uint open = holding & ~kept;
            heldBefore |= holding != 0 ? 1u << s : 0u;
            if (open != 0)
            {
                int keep = BitOperations.TrailingZeroCount(open);
                kept |= 1u << keep;
                slots[s] = target + keep;
            }
            else
            {
                waiting |= 1u << s;
            }
        }

        for (; waiting != 0; waiting &= waiting - 1)
        {
            int s = BitOperations.TrailingZeroCount(waiting), free = BitOperations.TrailingZeroCount(~kept);
            kept |= 1u << free;
            slots[s] = target + free;
            int expert = gets[s];
            if (expert >= 0 && (heldBefore & (1u << s)) == 0
                && (Vector512.Equals(getsLanes, Vector512.Create(expert)).ExtractMostSignificantBits() & ((1u << s) - 1)) == 0)
            {
                copies++;
            }
        }

        return copies;
    }

    // A GPU's slots, layer[start .. start + count), in the first lanes of a vector (inGpu), NoExpert in the others.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Lanes(ReadOnlySpan<int> layer, int start, int count, Vector512<int> inGpu) =>
        layer.Length - start >= SmallGpuSlots
            ? Vector512.ConditionalSelect(inGpu, Vector512.Create(layer.Slice(start, SmallGpuSlots)), Vector512.Create(NoExpert))
            : LastLanes(layer.Slice(start, count));

    // The layer's last GPUs, whose slots end less than a vector before the layer does.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector512<int> LastLanes(ReadOnlySpan<int> gpuSlots)
    {
        Span<int> lanes = stackalloc int[SmallGpuSlots];
        lanes.Fill(NoExpert);
        gpuSlots.CopyTo(lanes);
        return Vector512.Create<int>(lanes);
    }

    /// <summary>One GPU of any size, through each expert's list of the GPU's old slots.</summary>
    private int MatchLargeGpu(ReadOnlySpan<int> had, ReadOnlySpan<int> gets, Span<int> slots, int target)
    {
        int perGpu = had.Length, copies = 0;

        // The GPU's slots of each expert it holds, as a list per expert in slot order.
        _held.NextRound();
        for (int o = perGpu - 1; o >= 0; o--)
        {
            int expert = had[o];
            if (expert >= 0)
            {
                _nextSlot[o] = _held.Add(expert) ? -1 : _firstSlot[expert];
                _firstSlot[expert] = o;
            }
        }

        // Slot o of the GPU is taken when _takenIn[o] is this GPU's round: no clearing per GPU.
        if (++_gpuRound == int.MaxValue)
        {
            Array.Clear(_takenIn);
            _gpuRound = 1;
        }

        Span<int> taken = _takenIn.AsSpan(0, perGpu);
        int round = _gpuRound;
        for (int s = 0; s < perGpu; s++)
        {
            int expert = gets[s];
            slots[s] = -1;
            if (expert >= 0 && _held.Contains(expert) && _firstSlot[expert] >= 0)
            {
                int keep = _firstSlot[expert];
                _firstSlot[expert] = _nextSlot[keep];
                taken[keep] = round;
                slots[s] = target + keep;
            }
        }

        _received.NextRound();
        for (int s = 0, free = 0; s < perGpu; s++)
        {
            if (slots[s] >= 0)
            {
                continue;
            }

            while (taken[free] == round)
            {
                free++;
            }

            taken[free] = round;
            slots[s] = target + free;
            int expert = gets[s];
            if (expert >= 0 && !_held.Contains(expert) && _received.Add(expert))
            {
                copies++;
            }
        }

        return copies;
    }
}
