using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// x86-simd-sort's sorting network for ranges of at most 128 keys, ascending by load: a bitonic sort whose
/// compare-exchanges never swap equal keys, which is what decides the order of ties.
/// </summary>
/// <remarks>
/// <para>
/// The network: pad the range to a power of two (at least 8) with keys greater than any other; for block sizes
/// <c>s = 2, 4, …</c>, a "flip" step compares <c>b + i</c> with <c>b + s - 1 - i</c>, then half-cleaners compare
/// <c>b + i</c> with <c>b + i + d</c> for <c>d = s/4, …, 1</c>. A compare-exchange swaps only when the lower position's
/// load is strictly greater. Padding never moves, and once a block is sorted no later stage swaps inside it, so the
/// padding width does not change the order.
/// </para>
/// <para>
/// The compare-exchanges of a step are independent, so they run eight (or four) at a time: between vectors when the
/// partners are a vector or more apart, and inside one vector, against a permuted copy of itself, when they are
/// closer. Every path is the same network, compare for compare; <see cref="SortScalar"/> is the plain one, the
/// reference the vector paths are tested against.
/// </para>
/// </remarks>
internal static class BitonicNetwork
{
    /// <summary>Greater than every key's load (loads are at most +infinity's bits): padding that stays at the end.</summary>
    private const ulong Padding = 0x7FFF_FFFF_FFFF_FFFFUL;

    private const int MinSize = 8;

    /// <summary>Sorts <paramref name="count"/> (at most 128) keys at <paramref name="k"/> ascending by load.</summary>
    public static void SortAscending(ref ulong k, int count)
    {
        if (count < 2)
        {
            return;
        }

        int size = Math.Max(MinSize, (int)BitOperations.RoundUpToPowerOf2((uint)count));
        Span<ulong> padded = stackalloc ulong[X86SimdSort.NetworkMax];
        padded = padded.Slice(0, size);
        Span<ulong> row = MemoryMarshal.CreateSpan(ref k, count);
        row.CopyTo(padded);
        padded.Slice(count).Fill(Padding);

        if (Vector512.IsHardwareAccelerated)
        {
            Sort512(padded, count);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Sort256(padded, count);
        }
        else
        {
            SortScalar(padded);
        }

        padded.Slice(0, count).CopyTo(row);
    }

    /// <summary>The network one compare-exchange at a time, on a power-of-two length.</summary>
    internal static void SortScalar(Span<ulong> a)
    {
        for (int s = 2; s <= a.Length; s *= 2)
        {
            for (int b = 0; b < a.Length; b += s)
            {
                for (int i = 0; i < s / 2; i++)
                {
                    CompareExchange(a, b + i, b + s - 1 - i);
                }
            }

            for (int d = s / 4; d >= 1; d /= 2)
            {
                for (int b = 0; b < a.Length; b += 2 * d)
                {
                    for (int i = 0; i < d; i++)
                    {
                        CompareExchange(a, b + i, b + i + d);
                    }
                }
            }
        }
    }

    private static void CompareExchange(Span<ulong> a, int low, int high)
    {
        if (SortKey.IsBefore(a[low], a[high]))
        {
            (a[low], a[high]) = (a[high], a[low]);
        }
    }

    /// <summary>
    /// The network eight compare-exchanges at a time (AVX-512), on a power-of-two length of at least 8 whose keys from
    /// <paramref name="count"/> on are padding: vectors of padding alone are left out, as no compare moves them.
    /// </summary>
    internal static void Sort512(Span<ulong> a, int count)
    {
        ref ulong k = ref MemoryMarshal.GetReference(a);
        int n = a.Length, live = (count + 7) & ~7;
        for (int s = 2; s <= n; s *= 2)
        {
            int d = s / 4;
            if (s > 8)
            {
                // Flip across vectors: lane j of the vector at b + i pairs with b + s - 1 - i - j, lane j of the
                // vector at b + s - 8 - i read backwards.
                for (int b = 0; b < live; b += s)
                {
                    for (int i = 0; i < s / 2 && b + i < live; i += 8)
                    {
                        Vector512<ulong> low = Vector512.LoadUnsafe(ref k, (nuint)(b + i));
                        Vector512<ulong> high = Reverse(Vector512.LoadUnsafe(ref k, (nuint)(b + s - 8 - i)));
                        Exchange(ref low, ref high);
                        low.StoreUnsafe(ref k, (nuint)(b + i));
                        Reverse(high).StoreUnsafe(ref k, (nuint)(b + s - 8 - i));
                    }
                }

                for (; d >= 8; d /= 2)
                {
                    for (int b = 0; b < live; b += 2 * d)
                    {
                        for (int i = 0; i < d && b + i < live; i += 8)
                        {
                            Vector512<ulong> low = Vector512.LoadUnsafe(ref k, (nuint)(b + i));
                            Vector512<ulong> high = Vector512.LoadUnsafe(ref k, (nuint)(b + i + d));
                            Exchange(ref low, ref high);
                            low.StoreUnsafe(ref k, (nuint)(b + i));
                            high.StoreUnsafe(ref k, (nuint)(b + i + d));
                        }
                    }
                }
            }

            // The steps whose partners share a vector, each vector once.
            for (int v = 0; v < live; v += 8)
            {
                Vector512<ulong> keys = Vector512.LoadUnsafe(ref k, (nuint)v);
                keys = s switch
                {
                    2 => Within(keys, Vector512.Create(1UL, 0, 3, 2, 5, 4, 7, 6), Vector512.Create(-1L, 0, -1, 0, -1, 0, -1, 0)),
                    4 => Within(keys, Vector512.Create(3UL, 2, 1, 0, 7, 6, 5, 4), Vector512.Create(-1L, -1, 0, 0, -1, -1, 0, 0)),
                    8 => Within(keys, Vector512.Create(7UL, 6, 5, 4, 3, 2, 1, 0), Vector512.Create(-1L, -1, -1, -1, 0, 0, 0, 0)),
                    _ => keys,
                };
                if (d >= 4)
                {
                    keys = Within(keys, Vector512.Create(4UL, 5, 6, 7, 0, 1, 2, 3), Vector512.Create(-1L, -1, -1, -1, 0, 0, 0, 0));
                }

                if (d >= 2)
                {
                    keys = Within(keys, Vector512.Create(2UL, 3, 0, 1, 6, 7, 4, 5), Vector512.Create(-1L, -1, 0, 0, -1, -1, 0, 0));
                }

                if (d >= 1)
                {
                    keys = Within(keys, Vector512.Create(1UL, 0, 3, 2, 5, 4, 7, 6), Vector512.Create(-1L, 0, -1, 0, -1, 0, -1, 0));
                }

                keys.StoreUnsafe(ref k, (nuint)v);
            }
        }
    }

    /// <summary>The network four compare-exchanges at a time (AVX2); otherwise as <see cref="Sort512"/>.</summary>
    internal static void Sort256(Span<ulong> a, int count)
    {
        ref ulong k = ref MemoryMarshal.GetReference(a);
        int n = a.Length, live = (count + 3) & ~3;
        for (int s = 2; s <= n; s *= 2)
        {
            int d = s / 4;
            if (s > 4)
            {
                for (int b = 0; b < live; b += s)
                {
                    for (int i = 0; i < s / 2 && b + i < live; i += 4)
                    {
                        Vector256<ulong> low = Vector256.LoadUnsafe(ref k, (nuint)(b + i));
                        Vector256<ulong> high = Reverse(Vector256.LoadUnsafe(ref k, (nuint)(b + s - 4 - i)));
                        Exchange(ref low, ref high);
                        low.StoreUnsafe(ref k, (nuint)(b + i));
                        Reverse(high).StoreUnsafe(ref k, (nuint)(b + s - 4 - i));
                    }
                }

                for (; d >= 4; d /= 2)
                {
                    for (int b = 0; b < live; b += 2 * d)
                    {
                        for (int i = 0; i < d && b + i < live; i += 4)
                        {
                            Vector256<ulong> low = Vector256.LoadUnsafe(ref k, (nuint)(b + i));
                            Vector256<ulong> high = Vector256.LoadUnsafe(ref k, (nuint)(b + i + d));
                            Exchange(ref low, ref high);
                            low.StoreUnsafe(ref k, (nuint)(b + i));
                            high.StoreUnsafe(ref k, (nuint)(b + i + d));
                        }
                    }
                }
            }

            for (int v = 0; v < live; v += 4)
            {
                Vector256<ulong> keys = Vector256.LoadUnsafe(ref k, (nuint)v);
                keys = s switch
                {
                    2 => Within(keys, Vector256.Create(1UL, 0, 3, 2), Vector256.Create(-1L, 0, -1, 0)),
                    4 => Within(keys, Vector256.Create(3UL, 2, 1, 0), Vector256.Create(-1L, -1, 0, 0)),
                    _ => keys,
                };
                if (d >= 2)
                {
                    keys = Within(keys, Vector256.Create(2UL, 3, 0, 1), Vector256.Create(-1L, -1, 0, 0));
                }

                if (d >= 1)
                {
                    keys = Within(keys, Vector256.Create(1UL, 0, 3, 2), Vector256.Create(-1L, 0, -1, 0));
                }

                keys.StoreUnsafe(ref k, (nuint)v);
            }
        }
    }

    // Compare-exchange lane by lane: where low's load is greater than high's, the two swap (SortKey.IsBefore).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Exchange(ref Vector512<ulong> low, ref Vector512<ulong> high)
    {
        Vector512<ulong> swap = Vector512.GreaterThan(low.AsInt64(), (high | Vector512.Create(SortKey.IndexBits)).AsInt64()).AsUInt64();
        (low, high) = (Vector512.ConditionalSelect(swap, high, low), Vector512.ConditionalSelect(swap, low, high));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Exchange(ref Vector256<ulong> low, ref Vector256<ulong> high)
    {
        Vector256<ulong> swap = Vector256.GreaterThan(low.AsInt64(), (high | Vector256.Create(SortKey.IndexBits)).AsInt64()).AsUInt64();
        (low, high) = (Vector256.ConditionalSelect(swap, high, low), Vector256.ConditionalSelect(swap, low, high));
    }

    // Compare-exchange of lanes with their partner lanes in one vector: a lane in the lower half of its pair takes
    // the partner's key when its own load is greater, a lane in the upper half when the partner's load is greater.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Within(Vector512<ulong> keys, Vector512<ulong> partner, Vector512<long> lower)
    {
        Vector512<ulong> other = Vector512.Shuffle(keys, partner);
        Vector512<ulong> indexBits = Vector512.Create(SortKey.IndexBits);
        Vector512<long> mineGreater = Vector512.GreaterThan(keys.AsInt64(), (other | indexBits).AsInt64());
        Vector512<long> otherGreater = Vector512.GreaterThan(other.AsInt64(), (keys | indexBits).AsInt64());
        Vector512<long> take = Vector512.ConditionalSelect(lower, mineGreater, otherGreater);
        return Vector512.ConditionalSelect(take.AsUInt64(), other, keys);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Within(Vector256<ulong> keys, Vector256<ulong> partner, Vector256<long> lower)
    {
        Vector256<ulong> other = Vector256.Shuffle(keys, partner);
        Vector256<ulong> indexBits = Vector256.Create(SortKey.IndexBits);
        Vector256<long> mineGreater = Vector256.GreaterThan(keys.AsInt64(), (other | indexBits).AsInt64());
        Vector256<long> otherGreater = Vector256.GreaterThan(other.AsInt64(), (keys | indexBits).AsInt64());
        Vector256<long> take = Vector256.ConditionalSelect(lower, mineGreater, otherGreater);
        return Vector256.ConditionalSelect(take.AsUInt64(), other, keys);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Reverse(Vector512<ulong> keys) => Vector512.Shuffle(keys, Vector512.Create(7UL, 6, 5, 4, 3, 2, 1, 0));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Reverse(Vector256<ulong> keys) => Vector256.Shuffle(keys, Vector256.Create(3UL, 2, 1, 0));
}
