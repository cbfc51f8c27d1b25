namespace Eplb.Tests;

/// <summary>
/// x86-simd-sort's <c>keyvalue_qsort</c> written out from docs/reference-parity.md ("Which sort?") over (float,
/// index) pairs, plainly: a full padded network, and the partition's stores done lane by lane. The oracle the
/// library's emulation must equal on rows the golden file does not hold.
/// </summary>
internal static class X86SimdSortOracle
{
    /// <summary>The indices of <paramref name="values"/> in <c>torch.sort(descending=True)</c>'s order.</summary>
    public static int[] Order(float[] values, int lanes)
    {
        float[] keys = (float[])values.Clone();
        long[] index = Enumerable.Range(0, values.Length).Select(i => (long)i).ToArray();
        if (values.Length > 1)
        {
            QSort(keys, index, 0, values.Length - 1, (int)(2 * Math.Log2(values.Length)), lanes);
            Array.Reverse(keys);
            Array.Reverse(index);
        }

        return index.Select(i => (int)i).ToArray();
    }

    private static void QSort(float[] k, long[] v, int left, int right, int depth, int lanes)
    {
        if (depth <= 0)
        {
            HeapSort(k, v, left, right - left + 1);
            return;
        }

        if (right - left + 1 <= 128)
        {
            Network(k, v, left, right - left + 1, lanes);
            return;
        }

        // Pivot: four blocks of `lanes` samples.
        int delta = ((right - lanes) - left) / 4;
        float[] s = Enumerable.Range(0, 4).SelectMany(b => Enumerable.Range(0, lanes).Select(j => k[left + (b * delta) + j])).Order().ToArray();
        float smallest = s[0], largest = s[^1], median = s[2 * lanes];
        float pivot;
        bool onlyTwo = false;
        if (smallest == largest)
        {
            int i = left;
            while (i <= right && k[i] == median)
            {
                i++;
            }

            if (i > right)
            {
                return;
            }

            float v1 = k[i];
            while (i <= right && (k[i] == median || k[i] == v1))
            {
                i++;
            }

            if (i > right)
            {
                pivot = Math.Max(v1, median);
                onlyTwo = true;
            }
            else
            {
                float v2 = k[i];
                pivot = Math.Max(Math.Min(v1, v2), Math.Min(Math.Max(v1, v2), median));
            }
        }
        else if (median == smallest)
        {
            pivot = MathF.BitIncrement(median);
        }
        else
        {
            pivot = median;
        }

        float min = k.Skip(left).Take(right - left + 1).Min(), max = k.Skip(left).Take(right - left + 1).Max();
        int split = Partition(k, v, left, right + 1, pivot, lanes);
        if (onlyTwo)
        {
            return;
        }

        if (pivot != min)
        {
            QSort(k, v, left, split - 1, depth - 1, lanes);
        }

        if (pivot != max)
        {
            QSort(k, v, split, right, depth - 1, lanes);
        }
    }

    private static int Partition(float[] k, long[] v, int left, int right, float pivot, int lanes)
    {
        bool plain = right - left <= 32 * lanes;
        int block = plain ? lanes : 4 * lanes;
        for (int i = (right - left) % block; i > 0; i--)
        {
            if (k[left] >= pivot)
            {
                right--;
                (k[left], k[right]) = (k[right], k[left]);
                (v[left], v[right]) = (v[right], v[left]);
            }
            else
            {
                left++;
            }
        }

        if (left == right)
        {
            return left;
        }

        if (plain && right - left == lanes)
        {
            var only = Take(k, v, left, lanes);
            return left + lanes - Store(k, v, only, left, left + lanes, pivot, lanes);
        }

        var first = Take(k, v, left, block);
        var last = Take(k, v, right - block, block);
        int rStore = right - lanes, lStore = left;
        left += block;
        right -= block;
        while (right != left)
        {
            (float, long)[] current;
            if (rStore + lanes - right < left - lStore)
            {
                right -= block;
                current = Take(k, v, right, block);
            }
            else
            {
                current = Take(k, v, left, block);
                left += block;
            }

            StoreAll(current);
        }

        StoreAll(first);
        if (plain)
        {
            return lStore + lanes - Store(k, v, last, lStore, lStore + lanes, pivot, lanes);
        }

        StoreAll(last);
        return lStore;

        void StoreAll((float, long)[] items)
        {
            for (int vec = 0; vec < items.Length; vec += lanes)
            {
                int greater = Store(k, v, items.Skip(vec).Take(lanes).ToArray(), lStore, rStore + lanes, pivot, lanes);
                rStore -= greater;
                lStore += lanes - greater;
            }
        }
    }

    private static (float, long)[] Take(float[] k, long[] v, int at, int count) =>
        Enumerable.Range(at, count).Select(i => (k[i], v[i])).ToArray();

    // double_compressstore: lanes below the pivot from lStore on; the others right-aligned at rEnd, in lane order
    // (8 lanes) or reverse lane order (4 lanes).
    private static int Store(float[] k, long[] v, (float Key, long Value)[] vector, int lStore, int rEnd, float pivot, int lanes)
    {
        var below = vector.Where(x => !(x.Key >= pivot)).ToArray();
        var above = vector.Where(x => x.Key >= pivot).ToArray();
        if (lanes == 4)
        {
            Array.Reverse(above);
        }

        for (int i = 0; i < below.Length; i++)
        {
            (k[lStore + i], v[lStore + i]) = below[i];
        }

        for (int i = 0; i < above.Length; i++)
        {
            (k[rEnd - above.Length + i], v[rEnd - above.Length + i]) = above[i];
        }

        return above.Length;
    }

    private static void Network(float[] k, long[] v, int at, int n, int lanes)
    {
        int m = lanes;
        while (m < n)
        {
            m *= 2;
        }

        float[] key = Enumerable.Range(0, m).Select(i => i < n ? k[at + i] : float.PositiveInfinity).ToArray();
        long[] val = Enumerable.Range(0, m).Select(i => i < n ? v[at + i] : long.MaxValue).ToArray();
        void Exchange(int a, int b)
        {
            if (key[a] > key[b])
            {
                (key[a], key[b]) = (key[b], key[a]);
                (val[a], val[b]) = (val[b], val[a]);
            }
        }

        for (int s = 2; s <= m; s *= 2)
        {
            for (int b = 0; b < m; b += s)
            {
                for (int i = 0; i < s / 2; i++)
                {
                    Exchange(b + i, b + s - 1 - i);
                }
            }

            for (int d = s / 4; d >= 1; d /= 2)
            {
                for (int b = 0; b < m; b += 2 * d)
                {
                    for (int i = 0; i < d; i++)
                    {
                        Exchange(b + i, b + i + d);
                    }
                }
            }
        }

        for (int i = 0; i < n; i++)
        {
            (k[at + i], v[at + i]) = (key[i], val[i]);
        }
    }

    private static void HeapSort(float[] k, long[] v, int at, int size)
    {
        void Sift(int root, int end)
        {
            while (true)
            {
                int c = (2 * root) + 1;
                if (c >= end)
                {
                    return;
                }

                if (c + 1 < end && k[at + c] < k[at + c + 1])
                {
                    c++;
                }

                if (k[at + root] > k[at + c])
                {
                    return;
                }

                (k[at + root], k[at + c]) = (k[at + c], k[at + root]);
                (v[at + root], v[at + c]) = (v[at + c], v[at + root]);
                root = c;
            }
        }

        for (int i = (size / 2) - 1; i >= 0; i--)
        {
            Sift(i, size);
        }

        for (int end = size - 1; end > 0; end--)
        {
            (k[at], k[at + end]) = (k[at + end], k[at]);
            (v[at], v[at + end]) = (v[at + end], v[at]);
            Sift(0, end);
        }
    }
}
