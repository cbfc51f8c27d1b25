namespace Eplb;

/// <summary>
/// Heaviest replicas first, each onto the least-loaded GPU with a free slot that does not hold its expert yet: the
/// refined placer's packing of a scope's replicas, given their counts.
/// </summary>
/// <remarks>
/// An expert's replicas carry equal shares, so they are placed together, onto the <c>count</c> least-loaded GPUs
/// with room — distinct GPUs, hence no duplicate while counts stay within the GPUs. Only when fewer GPUs than
/// replicas have room does a replica join one of its own (the placement search then looks for a swap).
/// Orders are total (share, then expert id; load, then GPU id), so the packing is the same on every machine.
/// </remarks>
internal static class SlotPacking
{
    /// <summary>Fills <paramref name="plan"/>'s slots from its counts, and its loads.</summary>
    public static void Pack(ScopePlan plan, PackingBuffers buffers)
    {
        int n = plan.Experts, gpus = plan.Gpus, perGpu = plan.SlotsPerGpu;
        Span<int> order = buffers.Order.AsSpan(0, n);
        double[] shares = buffers.Shares;
        for (int e = 0; e < n; e++)
        {
            order[e] = e;
            shares[e] = plan.Share(e);
        }

        order.Sort(new BySharesDescending(shares));

        Span<int> heap = buffers.Heap.AsSpan(0, gpus), popped = buffers.Popped.AsSpan(0, gpus), free = buffers.Free.AsSpan(0, gpus);
        Span<double> loads = plan.Loads.AsSpan(0, gpus);
        for (int g = 0; g < gpus; g++)
        {
            heap[g] = g;
            free[g] = perGpu;
            loads[g] = 0;
        }

        int size = gpus;
        int[] slots = plan.SlotExpert;
        foreach (int e in order)
        {
            int count = plan.Counts[e], taken = 0;
            double share = shares[e];
            while (taken < count && size > 0)
            {
                popped[taken++] = heap[0];
                heap[0] = heap[--size];
                SiftDown(loads, heap, size, 0);
            }

            for (int r = 0; r < count;)
            {
                for (int i = 0; i < taken && r < count; i++)
                {
                    int g = popped[i];
                    if (free[g] > 0)
                    {
                        slots[(g * perGpu) + perGpu - free[g]--] = e;
                        loads[g] += share;
                        r++;
                    }
                }
            }

            for (int i = 0; i < taken; i++)
            {
                int g = popped[i];
                if (free[g] > 0)
                {
                    heap[size] = g;
                    SiftUp(loads, heap, size++);
                }
            }
        }
    }

    private static bool Lighter(ReadOnlySpan<double> loads, int a, int b) => loads[a] < loads[b] || (loads[a] == loads[b] && a < b);

    private static void SiftDown(ReadOnlySpan<double> loads, Span<int> heap, int size, int i)
    {
        int item = heap[i];
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= size)
            {
                break;
            }

            if (child + 1 < size && Lighter(loads, heap[child + 1], heap[child]))
            {
                child++;
            }

            if (!Lighter(loads, heap[child], item))
            {
                break;
            }

            heap[i] = heap[child];
            i = child;
        }

        heap[i] = item;
    }

    private static void SiftUp(ReadOnlySpan<double> loads, Span<int> heap, int i)
    {
        int item = heap[i];
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Lighter(loads, item, heap[parent]))
            {
                break;
            }

            heap[i] = heap[parent];
            i = parent;
        }

        heap[i] = item;
    }
}

/// <summary>Scratch for <see cref="SlotPacking"/>: sized by the scope's experts and GPUs.</summary>
internal sealed class PackingBuffers
{
    public int[] Order { get; private set; } = [];

    public double[] Shares { get; private set; } = [];

    public int[] Heap { get; private set; } = [];

    public int[] Popped { get; private set; } = [];

    public int[] Free { get; private set; } = [];

    public long Bytes => (sizeof(int) * ((long)Order.Length + Heap.Length + Popped.Length + Free.Length)) + (sizeof(double) * (long)Shares.Length);

    public void Reset(int experts, int gpus)
    {
        if (Order.Length < experts)
        {
            Order = new int[experts];
            Shares = new double[experts];
        }

        if (Heap.Length < gpus)
        {
            Heap = new int[gpus];
            Popped = new int[gpus];
            Free = new int[gpus];
        }
    }
}
