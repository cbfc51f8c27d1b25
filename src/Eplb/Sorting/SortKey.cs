using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// One item of a row as the reference's descending sort sees it: its load and its index, in one 64-bit word.
/// </summary>
/// <remarks>
/// <para>
/// Layout: bits 63–32 hold the load's IEEE-754 bits with the sign bit cleared; bits 31–0 hold the item's index.
/// Clearing the sign folds -0 into +0, as the reference's comparisons treat it, and keeps bit 63 of every key clear.
/// </para>
/// <para>
/// Order: <c>a</c> comes before <c>b</c> when <c>a</c>'s load is greater (<see cref="IsBefore(ulong, ulong)"/>);
/// the index never decides — which of two equal loads comes first is the sort procedure's business. Non-negative
/// float bits order like the values, so comparing <c>a</c> with <c>b | 0xFFFFFFFF</c> compares the loads alone, in
/// one instruction, and a swap moves load and index together.
/// </para>
/// <para>
/// The invariant the sorts rely on: every compare, scalar and vector, is a <em>signed</em> 64-bit compare of
/// these words. With bit 63 clear it equals the unsigned one; and because all paths use the same compare, the
/// scalar and vector halves of a sort can never disagree about an order — the guarantee that keeps the
/// reference's unguarded scans inside their row. Keys are made only from validated loads (finite, non-negative)
/// or from sums and shares of them; debug builds assert it.
/// </para>
/// </remarks>
internal readonly struct SortKey : IEquatable<SortKey>
{
    /// <summary>The index half of a key; OR it in to compare loads alone.</summary>
    public const ulong IndexBits = 0xFFFF_FFFFUL;

    /// <summary>The load half of a key.</summary>
    public const ulong LoadBits = ~IndexBits;

    private const uint LoadSignBit = 0x8000_0000u;

    private readonly ulong _bits;

    private SortKey(ulong bits) => _bits = bits;

    /// <summary>The raw 64-bit word, for the sorts' vector code.</summary>
    public ulong Bits => _bits;

    /// <summary>The item's index in its row.</summary>
    public int Index => (int)(uint)_bits;

    /// <summary>The load, with -0 already folded to +0.</summary>
    public float Load => BitConverter.UInt32BitsToSingle((uint)(_bits >> 32));

    /// <summary>The load half alone: equal for equal loads, zero for a zero load.</summary>
    public ulong LoadHalf => _bits & LoadBits;

    /// <summary>Makes the key of item <paramref name="index"/> with load <paramref name="load"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SortKey Create(float load, int index)
    {
        AssertLoad(load);
        return new SortKey(((ulong)(BitConverter.SingleToUInt32Bits(load) & ~LoadSignBit) << 32) | (uint)index);
    }

    /// <summary>A key from its load half (as <see cref="LoadHalf"/> returns it) and an index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SortKey FromLoadHalf(ulong loadHalf, int index)
    {
        Debug.Assert((loadHalf & IndexBits) == 0 && (long)loadHalf >= 0, "a load half has no index bits and bit 63 clear");
        return new SortKey(loadHalf | (uint)index);
    }

    /// <summary><c>keys[i] = Create(loads[i], i)</c> for a whole row, eight keys per step where vectors are accelerated.</summary>
    public static void CreateRow(ReadOnlySpan<float> loads, Span<SortKey> keys) =>
        CreateRow(loads, System.Runtime.InteropServices.MemoryMarshal.Cast<SortKey, ulong>(keys), flipLoads: 0);

    /// <summary>
    /// The words of <see cref="CreateRow(ReadOnlySpan{float}, Span{SortKey})"/>, with the load half XORed with
    /// <paramref name="flipLoads"/>: 0 for sort keys, <see cref="LoadBits"/> for <see cref="ShareKey"/>s.
    /// </summary>
    internal static void CreateRow(ReadOnlySpan<float> loads, Span<ulong> words, ulong flipLoads)
    {
        Debug.Assert(words.Length >= loads.Length, "a key per load");
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<uint> sign = Vector256.Create(LoadSignBit);
            Vector256<uint> flip = Vector256.Create((uint)(flipLoads >> 32));
            Vector256<ulong> index = Vector256.Create(0UL, 1, 2, 3);
            Vector256<ulong> four = Vector256.Create(4UL), eight = Vector256.Create(8UL);
            for (; i <= loads.Length - 8; i += 8)
            {
                Vector256<float> values = Vector256.Create(loads.Slice(i, 8));
                AssertLoads(values);
                Vector256<uint> bits = Vector256.AndNot(values.AsUInt32(), sign) ^ flip;
                (Vector256<ulong> lower, Vector256<ulong> upper) = Vector256.Widen(bits);
                (Vector256.ShiftLeft(lower, 32) | index).CopyTo(words.Slice(i, 4));
                (Vector256.ShiftLeft(upper, 32) | (index + four)).CopyTo(words.Slice(i + 4, 4));
                index += eight;
            }
        }

        for (; i < loads.Length; i++)
        {
            words[i] = Create(loads[i], i)._bits ^ flipLoads;
        }
    }

    /// <summary>The order of every sort: <paramref name="a"/>'s load is greater than <paramref name="b"/>'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsBefore(ulong a, ulong b) => (long)a > (long)(b | IndexBits);

    /// <inheritdoc cref="IsBefore(ulong, ulong)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsBefore(SortKey a, SortKey b) => IsBefore(a._bits, b._bits);

    public bool Equals(SortKey other) => _bits == other._bits;

    public override bool Equals(object? obj) => obj is SortKey other && Equals(other);

    public override int GetHashCode() => _bits.GetHashCode();

    public override string ToString() => $"{Load} #{Index}";

    [Conditional("DEBUG")]
    private static void AssertLoad(float load) =>
        Debug.Assert(load >= 0f, $"keys are made from validated loads (non-negative, not NaN), not {load}");

    [Conditional("DEBUG")]
    private static void AssertLoads(Vector256<float> loads) =>
        Debug.Assert(Vector256.GreaterThanOrEqualAll(loads, Vector256<float>.Zero), "keys are made from validated loads (non-negative, not NaN)");
}
