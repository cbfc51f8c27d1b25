using System.Runtime.InteropServices;

namespace Eplb;

/// <summary>What x86-simd-sort's pivot choice found out about a range.</summary>
internal enum SimdPivotKind
{
    /// <summary>Partition around the pivot and recurse on both sides.</summary>
    Normal,

    /// <summary>Every key is equal: nothing to do.</summary>
    Sorted,

    /// <summary>Only two values: one partition around the larger sorts the range.</summary>
    OnlyTwoValues,
}

/// <summary>
/// x86-simd-sort's <c>get_pivot_smart</c> for ranges of more than 128 keys: the median of 4 × lanes sampled keys,
/// with special cases for near-constant ranges and for samples whose median is their least or greatest value.
/// </summary>
internal readonly struct SimdPivot(uint load, SimdPivotKind kind)
{
    /// <summary>The pivot's load bits; keys whose load is at least this go right.</summary>
    public uint Load { get; } = load;

    public SimdPivotKind Kind { get; } = kind;

    /// <summary>Chooses the pivot of <c>[left, right]</c> (inclusive).</summary>
    public static SimdPivot Choose(ref ulong k, int left, int right, int lanes)
    {
        // Four blocks of `lanes` keys, evenly spaced from `left`, sorted together.
        int delta = ((right - lanes) - left) / 4;
        int samples = 4 * lanes;
        Span<ulong> sorted = stackalloc ulong[32];
        sorted = sorted.Slice(0, samples);
        for (int block = 0; block < 4; block++)
        {
            for (int lane = 0; lane < lanes; lane++)
            {
                sorted[(block * lanes) + lane] = KeyRow.At(ref k, left + (delta * block) + lane);
            }
        }

        // Only the samples' values matter here, not which key holds them.
        BitonicNetwork.SortAscending(ref MemoryMarshal.GetReference(sorted), samples);
        uint smallest = X86SimdSort.Load(sorted[0]), largest = X86SimdSort.Load(sorted[samples - 1]), median = X86SimdSort.Load(sorted[samples / 2]);
        if (smallest == largest)
        {
            return NearConstant(ref k, median, left, right);
        }

        // A median equal to the least sample suggests half the range holds that value: split just above it.
        return median == smallest ? new SimdPivot(NextUp(median), SimdPivotKind.Normal) : new SimdPivot(median, SimdPivotKind.Normal);
    }

    // get_pivot_near_constant: every sample equal. Its vector scans stop no later than the scalar scans they
    // precede, so scanning key by key finds the same values.
    private static SimdPivot NearConstant(ref ulong k, uint common, int left, int right)
    {
        int index = left;
        while (index <= right && X86SimdSort.Load(KeyRow.At(ref k, index)) == common)
        {
            index++;
        }

        if (index > right)
        {
            return new SimdPivot(common, SimdPivotKind.Sorted);
        }

        uint value1 = X86SimdSort.Load(KeyRow.At(ref k, index));
        while (index <= right && X86SimdSort.Load(KeyRow.At(ref k, index)) is uint v && (v == common || v == value1))
        {
            index++;
        }

        if (index > right)
        {
            // The larger of the two, so that the right side is not empty; one partition then sorts the range.
            return new SimdPivot(Math.Max(value1, common), SimdPivotKind.OnlyTwoValues);
        }

        uint value2 = X86SimdSort.Load(KeyRow.At(ref k, index));
        return new SimdPivot(Math.Max(Math.Min(value1, value2), Math.Min(Math.Max(value1, value2), common)), SimdPivotKind.Normal);
    }

    // nextafter(x, +inf) for a non-negative float's bits; +inf stays.
    private static uint NextUp(uint bits) => bits >= 0x7F80_0000u ? bits : bits + 1;
}
