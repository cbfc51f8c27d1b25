using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// libstdc++'s <c>__unguarded_partition</c> of <c>[first + 1, last)</c> around the pivot at <c>first</c>, with the
/// very swaps in the very order, found eight keys at a time with vector compares where vectors are accelerated.
/// </summary>
/// <remarks>
/// The left scan stops on a key not before the pivot, the right scan on a key the pivot is not before; the two are
/// swapped until the scans cross. libstdc++'s median of three guarantees both scans stop inside the range, which is
/// why they need no bounds checks — provided every compare agrees with the median's, which is why all of them,
/// scalar and vector, are the one signed compare of <see cref="SortKey"/>.
/// </remarks>
internal static class HoarePartition
{
    /// <summary>Partitions and returns the cut: keys before it are not after the pivot, keys from it not before.</summary>
    public static int Partition(ref ulong k, int first, int last) =>
        Vector256.IsHardwareAccelerated
            ? PartitionInBlocks(ref k, first, last)
            : Partition(ref k, KeyRow.At(ref k, first), first + 1, last);

    /// <summary>The scalar loop over <c>[lo, hi)</c>, the pivot excluded.</summary>
    private static int Partition(ref ulong k, ulong pivot, int lo, int hi)
    {
        while (true)
        {
            while (SortKey.IsBefore(KeyRow.At(ref k, lo), pivot))
            {
                lo++;
            }

            hi--;
            while (SortKey.IsBefore(pivot, KeyRow.At(ref k, hi)))
            {
                hi--;
            }

            if (lo >= hi)
            {
                return lo;
            }

            KeyRow.Swap(ref k, lo, hi);
            lo++;
        }
    }

    /// <summary>
    /// The same partition, with the same swaps in the same order, but found eight keys at a time with vector
    /// compares instead of one mispredicted branch per key.
    /// </summary>
    /// <remarks>
    /// Hoare swaps the i-th key from the left that stops the left scan with the i-th key from the right that
    /// stops the right scan, for as long as the first lies left of the second. While the unscanned middle still
    /// holds a whole block, a left block lies left of every right block and holds original keys (swaps only
    /// touch keys already scanned), so each block's stoppers are one compare mask, and pairing masks lowest bit
    /// left, highest bit right, is exactly Hoare's order. Once the middle is shorter than a block, the scalar
    /// loop takes over from the very state Hoare would be in: the left scan at its next pending stopper (or the
    /// middle's start), the right scan likewise.
    /// </remarks>
    private static int PartitionInBlocks(ref ulong k, int first, int last)
    {
        const int Block = 8;
        ulong pivot = KeyRow.At(ref k, first);

        // SortKey.IsBefore as vector compares, for any bits: a key stops the left scan when !(key > pivot | index
        // bits), that is, when it is not before the pivot; the right scan when (key | index bits) >= pivot, when the
        // pivot is not before it — tested as > pivot - 1, which for the least key, 1 << 63, saturates: every key
        // with its index bits set is greater than it.
        Vector256<long> pivotMasked = Vector256.Create((long)(pivot | SortKey.IndexBits));
        Vector256<long> pivotLess = Vector256.Create((long)pivot == long.MinValue ? long.MinValue : (long)pivot - 1);
        Vector256<long> indexBits = Vector256.Create((long)SortKey.IndexBits);
        ref long keys = ref Unsafe.As<ulong, long>(ref k);

        int left = first + 1, right = last; // the unscanned middle
        int leftBlock = 0, rightBlock = 0;
        uint leftStops = 0, rightStops = 0; // stoppers of the current blocks not yet swapped
        while (true)
        {
            if (leftStops == 0)
            {
                if (right - left < Block)
                {
                    break;
                }

                Vector256<long> a = Vector256.LoadUnsafe(ref keys, (nuint)left);
                Vector256<long> b = Vector256.LoadUnsafe(ref keys, (nuint)(left + 4));
                leftStops = ~(Vector256.GreaterThan(a, pivotMasked).ExtractMostSignificantBits()
                    | (Vector256.GreaterThan(b, pivotMasked).ExtractMostSignificantBits() << 4)) & 0xFF;
                leftBlock = left;
                left += Block;
                continue;
            }

            if (rightStops == 0)
            {
                if (right - left < Block)
                {
                    break;
                }

                right -= Block;
                Vector256<long> a = Vector256.LoadUnsafe(ref keys, (nuint)right) | indexBits;
                Vector256<long> b = Vector256.LoadUnsafe(ref keys, (nuint)(right + 4)) | indexBits;
                rightStops = Vector256.GreaterThan(a, pivotLess).ExtractMostSignificantBits()
                    | (Vector256.GreaterThan(b, pivotLess).ExtractMostSignificantBits() << 4);
                rightBlock = right;
                continue;
            }

            do
            {
                int i = leftBlock + BitOperations.TrailingZeroCount(leftStops);
                int j = rightBlock + 31 - BitOperations.LeadingZeroCount(rightStops);
                KeyRow.Swap(ref k, i, j);
                leftStops &= leftStops - 1;
                rightStops ^= 1u << (j - rightBlock);
            }
            while (leftStops != 0 && rightStops != 0);
        }

        int lo = leftStops != 0 ? leftBlock + BitOperations.TrailingZeroCount(leftStops) : left;
        int hi = rightStops != 0 ? rightBlock + 32 - BitOperations.LeadingZeroCount(rightStops) : right;
        return Partition(ref k, pivot, lo, hi);
    }
}
