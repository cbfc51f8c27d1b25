namespace Eplb.Tests;

/// <summary>
/// libstdc++'s <c>std::sort</c> as torch.sort(descending=True) runs it, written out line by line from
/// docs/reference-parity.md over (value, index) pairs, with no tricks: the oracle the library's sort must equal.
/// </summary>
internal static class LibstdcxxSort
{
    private const int Threshold = 16;

    /// <summary>The indices of <paramref name="values"/> in the reference's descending order, ties included.</summary>
    public static int[] Order(float[] values)
    {
        var items = new (float Value, int Index)[values.Length];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = (values[i], i);
        }

        if (items.Length > 1)
        {
            IntroSortLoop(items, 0, items.Length, 2 * (int)Math.Floor(Math.Log2(items.Length)));
            FinalInsertionSort(items);
        }

        return items.Select(item => item.Index).ToArray();
    }

    // The comparator: a comes before b when its value is larger (NaN never occurs here).
    private static bool Before((float Value, int Index) a, (float Value, int Index) b) => a.Value > b.Value;

    private static void IntroSortLoop((float, int)[] a, int first, int last, int depth)
    {
        while (last - first > Threshold)
        {
            if (depth == 0)
            {
                MakeHeap(a, first, last);
                SortHeap(a, first, last);
                return;
            }

            depth--;
            int cut = UnguardedPartitionPivot(a, first, last);
            IntroSortLoop(a, cut, last, depth);
            last = cut;
        }
    }

    private static int UnguardedPartitionPivot((float, int)[] a, int first, int last)
    {
        int mid = first + ((last - first) / 2);
        MoveMedianToFirst(a, first, first + 1, mid, last - 1);
        int lo = first + 1, hi = last;
        while (true)
        {
            while (Before(a[lo], a[first]))
            {
                lo++;
            }

            hi--;
            while (Before(a[first], a[hi]))
            {
                hi--;
            }

            if (!(lo < hi))
            {
                return lo;
            }

            (a[lo], a[hi]) = (a[hi], a[lo]);
            lo++;
        }
    }

    private static void MoveMedianToFirst((float, int)[] a, int result, int x, int y, int z)
    {
        int median;
        if (Before(a[x], a[y]))
        {
            median = Before(a[y], a[z]) ? y : Before(a[x], a[z]) ? z : x;
        }
        else
        {
            median = Before(a[x], a[z]) ? x : Before(a[y], a[z]) ? z : y;
        }

        (a[result], a[median]) = (a[median], a[result]);
    }

    private static void MakeHeap((float, int)[] a, int first, int last)
    {
        int len = last - first;
        if (len < 2)
        {
            return;
        }

        for (int parent = (len - 2) / 2; parent >= 0; parent--)
        {
            AdjustHeap(a, first, parent, len, a[first + parent]);
        }
    }

    private static void SortHeap((float, int)[] a, int first, int last)
    {
        while (last - first > 1)
        {
            last--;
            (float, int) value = a[last];
            a[last] = a[first];
            AdjustHeap(a, first, 0, last - first, value);
        }
    }

    private static void AdjustHeap((float, int)[] a, int first, int hole, int len, (float, int) value)
    {
        int top = hole, child = hole;
        while (child < (len - 1) / 2)
        {
            child = 2 * (child + 1);
            if (Before(a[first + child], a[first + child - 1]))
            {
                child--;
            }

            a[first + hole] = a[first + child];
            hole = child;
        }

        if ((len & 1) == 0 && child == (len - 2) / 2)
        {
            child = 2 * (child + 1);
            a[first + hole] = a[first + child - 1];
            hole = child - 1;
        }

        int parent = (hole - 1) / 2;
        while (hole > top && Before(a[first + parent], value))
        {
            a[first + hole] = a[first + parent];
            hole = parent;
            parent = (hole - 1) / 2;
        }

        a[first + hole] = value;
    }

    private static void FinalInsertionSort((float, int)[] a)
    {
        if (a.Length > Threshold)
        {
            InsertionSort(a, 0, Threshold);
            for (int i = Threshold; i < a.Length; i++)
            {
                UnguardedLinearInsert(a, i);
            }
        }
        else
        {
            InsertionSort(a, 0, a.Length);
        }
    }

    private static void InsertionSort((float, int)[] a, int first, int last)
    {
        for (int i = first + 1; i < last; i++)
        {
            if (Before(a[i], a[first]))
            {
                (float, int) value = a[i];
                Array.Copy(a, first, a, first + 1, i - first);
                a[first] = value;
            }
            else
            {
                UnguardedLinearInsert(a, i);
            }
        }
    }

    private static void UnguardedLinearInsert((float, int)[] a, int last)
    {
        (float, int) value = a[last];
        int next = last - 1;
        while (Before(value, a[next]))
        {
            a[last] = a[next];
            last = next;
            next--;
        }

        a[last] = value;
    }
}
