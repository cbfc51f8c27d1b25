namespace Eplb;

/// <summary>
/// Where each replica of a relabelled GPU goes within its new GPU, and what the GPU must receive: an expert the GPU
/// holds now keeps its slot (a server moves nothing for it), the others take the slots left, in order, and each
/// expert the GPU does not hold yet is one copy, from a holder on its node if there is one.
/// </summary>
internal sealed class SlotMatching
{
    private int[] _firstSlot = [];
    private int[] _nextSlot = [];
    private int[] _newGpuOn = [];
    private int[] _takenIn = [];
    private int _gpuRound;
    private readonly ExpertMarks _held = new();
    private readonly ExpertMarks _received = new();

    /// <summary>
    /// Writes <c>slotOf[s]</c>, the slot that the fresh plan's slot <c>s</c> takes, given the GPU each fresh GPU
    /// becomes, and adds the layer's copies to <paramref name="moves"/>, by GPU and then slot.
    /// </summary>
    public void Match(int layer, ReadOnlySpan<int> next, ReadOnlySpan<int> old, ReadOnlySpan<int> position, ExpertHolders holders,
        int experts, int gpusPerNode, Span<int> slotOf, CopyBuffer moves)
    {
        int gpus = position.Length, perGpu = next.Length / gpus;
        Grow(ref _firstSlot, experts);
        Grow(ref _newGpuOn, gpus);
        if (_nextSlot.Length < perGpu)
        {
            _nextSlot = new int[perGpu];
            _takenIn = new int[perGpu];
            _gpuRound = 0;
        }

        for (int g = 0; g < gpus; g++)
        {
            _newGpuOn[position[g]] = g;
        }

        _held.Reset(experts);
        _received.Reset(experts);
        for (int gpu = 0; gpu < gpus; gpu++)
        {
            int target = gpu * perGpu, source = _newGpuOn[gpu] * perGpu;
            ReadOnlySpan<int> had = old.Slice(target, perGpu), gets = next.Slice(source, perGpu);
            Span<int> slots = slotOf.Slice(source, perGpu);

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
            int nodeStart = gpu - (gpu % gpusPerNode);
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
                    moves.Add(new ExpertCopy(layer, expert, gpu, target + free, holders.SourceFor(expert, nodeStart, nodeStart + gpusPerNode)));
                }
            }
        }
    }

    private static void Grow(ref int[] array, int length)
    {
        if (array.Length < length)
        {
            array = new int[length];
        }
    }
}
