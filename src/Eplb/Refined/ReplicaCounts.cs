namespace Eplb;

/// <summary>
/// Replica counts that minimise the largest load per replica (<c>m*</c> of docs/load-model.md): every expert one
/// replica, each further slot to the expert whose replicas now carry the most (the lowest id of equal shares).
/// </summary>
/// <remarks>
/// The greedy is optimal for the largest share, and with a cap it is optimal among counts under the cap. The refined
/// placer caps counts at the GPUs in scope, since a further replica could only sit beside another of its expert.
/// </remarks>
internal static class ReplicaCounts
{
    /// <summary>
    /// Fills <paramref name="counts"/> (Σ = <paramref name="slots"/>, each in <c>[1, cap]</c>) and returns the
    /// largest share. The caller ensures <c>weight.Length ≤ slots ≤ weight.Length × cap</c>.
    /// </summary>
    /// <param name="weight">The experts' loads.</param>
    /// <param name="slots">The slots to fill.</param>
    /// <param name="cap">The most replicas of one expert.</param>
    /// <param name="counts">Each expert's replica count.</param>
    /// <param name="heap">Scratch of <c>weight.Length</c> entries.</param>
    public static double Greedy(ReadOnlySpan<double> weight, int slots, int cap, Span<int> counts, Span<int> heap)
    {
        int n = weight.Length, size = 0;
        for (int e = 0; e < n; e++)
        {
            counts[e] = 1;
            if (cap > 1)
            {
                heap[size++] = e;
            }
        }

        for (int i = (size / 2) - 1; i >= 0; i--)
        {
            SiftDown(weight, counts, heap, size, i);
        }

        for (int s = n; s < slots && size > 0; s++)
        {
            int e = heap[0];
            if (++counts[e] == cap)
            {
                heap[0] = heap[--size];
            }

            SiftDown(weight, counts, heap, size, 0);
        }

        double largest = 0;
        for (int e = 0; e < n; e++)
        {
            largest = Math.Max(largest, weight[e] / counts[e]);
        }

        return largest;
    }

    /// <summary><c>m*</c> for <paramref name="slots"/> slots, without a cap.</summary>
    public static double LeastLargestShare(ReadOnlySpan<double> weight, int slots, Span<int> counts, Span<int> heap) =>
        Greedy(weight, slots, int.MaxValue, counts, heap);

    /// <summary><c>m*</c> of float loads (as users pass them), for the bounds and diagnostics; allocates its scratch.</summary>
    public static double LeastLargestShare(ReadOnlySpan<float> weight, int slots)
    {
        var loads = new double[weight.Length];
        for (int e = 0; e < loads.Length; e++)
        {
            loads[e] = weight[e];
        }

        return LeastLargestShare(loads, slots, new int[loads.Length], new int[loads.Length]);
    }

    // A max-heap on (share, then the lower id): the order is total, so the counts are the same on every machine.
    private static bool Before(ReadOnlySpan<double> weight, ReadOnlySpan<int> counts, int a, int b)
    {
        double sa = weight[a] / counts[a], sb = weight[b] / counts[b];
        return sa > sb || (sa == sb && a < b);
    }

    private static void SiftDown(ReadOnlySpan<double> weight, ReadOnlySpan<int> counts, Span<int> heap, int size, int i)
    {
        int item = heap[i];
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= size)
            {
                break;
            }

            if (child + 1 < size && Before(weight, counts, heap[child + 1], heap[child]))
            {
                child++;
            }

            if (!Before(weight, counts, heap[child], item))
            {
                break;
            }

            heap[i] = heap[child];
            i = child;
        }

        heap[i] = item;
    }
}
