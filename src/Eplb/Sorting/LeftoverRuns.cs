using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// libstdc++'s final insertion pass over one run of at most <see cref="LibStdCxxSort.Threshold"/> keys that
/// introsort left: a stable descending sort of the run (see <see cref="LibStdCxxSort"/> for why that is exact).
/// </summary>
/// <remarks>
/// Where vectors are accelerated, each key goes straight to its stable rank — the number of larger keys plus the
/// number of equal keys before it — counted with vector compares and no data-dependent branch. With every key's
/// index half forced to ones (<c>a' = a | 0xFFFFFFFF</c>), "larger, or equal and earlier" is one signed compare
/// <c>a'[j] &gt; t[j]</c> with <c>t[j] = a'[i] - (j &lt; i ? 1 : 0)</c>: the compare of <see cref="SortKey"/>.
/// </remarks>
internal static class LeftoverRuns
{
    private const int MaxRun = LibStdCxxSort.Threshold;

    // Fills the lanes past the run: the least key in SortKey's order, so it never counts as ahead of a real key,
    // whatever that key's bits.
    private const ulong Padding = 1UL << 63;

    /// <summary>Sorts the run of <paramref name="n"/> keys at <paramref name="run"/> as libstdc++'s final pass does.</summary>
    public static void SortRun(ref ulong run, int n)
    {
        if (n < 2)
        {
            return;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            SortByRank512(ref run, n);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            SortByRank256(ref run, n);
        }
        else
        {
            InsertionSort(ref run, n);
        }
    }

    /// <summary>Stable rank sort with AVX2-sized vectors: four keys per compare, so a run is four vectors.</summary>
    internal static void SortByRank256(ref ulong run, int n)
    {
        Debug.Assert(n <= MaxRun, "runs left by introsort are at most 16 long");
        Span<ulong> copy = stackalloc ulong[MaxRun];
        copy.Fill(Padding);
        MemoryMarshal.CreateReadOnlySpan(ref run, n).CopyTo(copy);

        Vector256<long> mask = Vector256.Create((long)SortKey.IndexBits);
        ref long c = ref System.Runtime.CompilerServices.Unsafe.As<ulong, long>(ref MemoryMarshal.GetReference(copy));
        Vector256<long> a0 = Vector256.LoadUnsafe(ref c, 0) | mask;
        Vector256<long> a1 = Vector256.LoadUnsafe(ref c, 4) | mask;
        Vector256<long> a2 = Vector256.LoadUnsafe(ref c, 8) | mask;
        Vector256<long> a3 = Vector256.LoadUnsafe(ref c, 12) | mask;
        Vector256<long> j0 = Vector256.Create(0L, 1, 2, 3);
        Vector256<long> j1 = Vector256.Create(4L, 5, 6, 7);
        Vector256<long> j2 = Vector256.Create(8L, 9, 10, 11);
        Vector256<long> j3 = Vector256.Create(12L, 13, 14, 15);

        for (int i = 0; i < n; i++)
        {
            Vector256<long> key = Vector256.Create((long)(copy[i] | SortKey.IndexBits));
            Vector256<long> index = Vector256.Create((long)i);

            // j < i gives an all-ones lane, which is -1: the threshold drops by one and "equal" counts too.
            uint ahead =
                Vector256.GreaterThan(a0, key + Vector256.GreaterThan(index, j0)).ExtractMostSignificantBits()
                | (Vector256.GreaterThan(a1, key + Vector256.GreaterThan(index, j1)).ExtractMostSignificantBits() << 4)
                | (Vector256.GreaterThan(a2, key + Vector256.GreaterThan(index, j2)).ExtractMostSignificantBits() << 8)
                | (Vector256.GreaterThan(a3, key + Vector256.GreaterThan(index, j3)).ExtractMostSignificantBits() << 12);
            KeyRow.At(ref run, BitOperations.PopCount(ahead)) = copy[i];
        }
    }

    /// <summary><see cref="SortByRank256"/> with AVX-512: eight keys per compare, so a run is two vectors.</summary>
    internal static void SortByRank512(ref ulong run, int n)
    {
        Debug.Assert(n <= MaxRun, "runs left by introsort are at most 16 long");
        Span<ulong> copy = stackalloc ulong[MaxRun];
        copy.Fill(Padding);
        MemoryMarshal.CreateReadOnlySpan(ref run, n).CopyTo(copy);

        Vector512<long> mask = Vector512.Create((long)SortKey.IndexBits);
        ref long c = ref System.Runtime.CompilerServices.Unsafe.As<ulong, long>(ref MemoryMarshal.GetReference(copy));
        Vector512<long> a0 = Vector512.LoadUnsafe(ref c, 0) | mask;
        Vector512<long> a1 = Vector512.LoadUnsafe(ref c, 8) | mask;
        Vector512<long> j0 = Vector512.Create(0L, 1, 2, 3, 4, 5, 6, 7);
        Vector512<long> j1 = Vector512.Create(8L, 9, 10, 11, 12, 13, 14, 15);

        for (int i = 0; i < n; i++)
        {
            Vector512<long> key = Vector512.Create((long)(copy[i] | SortKey.IndexBits));
            Vector512<long> index = Vector512.Create((long)i);
            ulong ahead =
                Vector512.GreaterThan(a0, key + Vector512.GreaterThan(index, j0)).ExtractMostSignificantBits()
                | (Vector512.GreaterThan(a1, key + Vector512.GreaterThan(index, j1)).ExtractMostSignificantBits() << 8);
            KeyRow.At(ref run, BitOperations.PopCount(ahead)) = copy[i];
        }
    }

    /// <summary>libstdc++'s <c>__insertion_sort</c>: the reference behaviour, and the path without vectors.</summary>
    internal static void InsertionSort(ref ulong k, int n)
    {
        for (int i = 1; i < n; i++)
        {
            ulong value = KeyRow.At(ref k, i);
            if (SortKey.IsBefore(value, k))
            {
                // move_backward [0, i) by one, then put the value first.
                for (int j = i; j > 0; j--)
                {
                    KeyRow.At(ref k, j) = KeyRow.At(ref k, j - 1);
                }

                k = value;
            }
            else
            {
                // Unguarded: the first key is not after the value, so the scan stops.
                int last = i, next = i - 1;
                while (SortKey.IsBefore(value, KeyRow.At(ref k, next)))
                {
                    KeyRow.At(ref k, last) = KeyRow.At(ref k, next);
                    last = next;
                    next--;
                }

                KeyRow.At(ref k, last) = value;
            }
        }
    }
}
