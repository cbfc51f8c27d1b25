using System.Diagnostics;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Eplb;

/// <summary>
/// x86-simd-sort's <c>kvpartition_unrolled&lt;4&gt;</c>: splits a range around a pivot, keys whose load is at least the
/// pivot's to the right, in the exact order its vector stores leave them.
/// </summary>
/// <remarks>
/// The original loads whole vectors of <c>lanes</c> keys and stores each with two compress-stores: the lanes below
/// the pivot packed at the left store point, in lane order, and the others packed against the right store point —
/// in lane order with AVX-512 and in reverse lane order with AVX2's emulation. Ranges of up to 32 vectors go a
/// vector at a time, larger ones four at a time; which side the next block is read from depends on how much room
/// each side has left. This emulation copies each block before storing, as the original holds it in registers, and
/// stores with AVX-512's compress and masked stores where the machine has them, lane by lane where not: the same
/// keys land in the same places either way (CI runs the golden cases both ways).
/// </remarks>
internal static class SimdPartition
{
    private const int Unroll = 4;

    /// <summary>
    /// Partitions <c>[left, right)</c> around <paramref name="pivot"/> and returns the split: keys before it are below
    /// the pivot, keys from it are not. <paramref name="smallest"/> and <paramref name="biggest"/> receive the range's
    /// least and greatest loads, which decide whether each side needs sorting.
    /// </summary>
    public static int Partition(ref ulong k, int left, int right, uint pivot, int lanes, out uint smallest, out uint biggest)
    {
        Debug.Assert(lanes is 4 or 8, "x86-simd-sort's 64-bit key-value vectors hold 8 (AVX-512) or 4 (AVX2) keys");

        // The original tracks the least and greatest key of the range while it partitions; they are the same before.
        ReadOnlySpan<ulong> range = MemoryMarshal.CreateReadOnlySpan(ref KeyRow.At(ref k, left), right - left);
        smallest = X86SimdSort.Load(TensorPrimitives.Min(range));
        biggest = X86SimdSort.Load(TensorPrimitives.Max(range));
        int block = right - left <= 8 * Unroll * lanes ? lanes : Unroll * lanes;

        // Leading keys one at a time, until the rest is whole blocks.
        for (int i = (right - left) % block; i > 0; i--)
        {
            if (X86SimdSort.Load(KeyRow.At(ref k, left)) >= pivot)
            {
                right--;
                KeyRow.Swap(ref k, left, right);
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

        var stores = new Stores(pivot, lanes);
        Span<ulong> buffer = stackalloc ulong[3 * Unroll * 8];
        if (block == lanes && right - left == lanes)
        {
            // One vector left: it is partitioned in place.
            Span<ulong> only = Copy(ref k, left, lanes, buffer);
            int greater = stores.Store(ref k, only, left, left + lanes);
            return left + lanes - greater;
        }

        // The first and last blocks are held aside and stored last, which leaves room for everything in between.
        Span<ulong> first = Copy(ref k, left, block, buffer);
        Span<ulong> last = Copy(ref k, right - block, block, buffer.Slice(block));
        Span<ulong> current = buffer.Slice(2 * block, block);
        int rightStore = right - lanes, leftStore = left;
        left += block;
        right -= block;
        while (right != left)
        {
            // Read from the side with less room left for stores.
            if (rightStore + lanes - right < left - leftStore)
            {
                right -= block;
                Copy(ref k, right, block, current);
            }
            else
            {
                Copy(ref k, left, block, current);
                left += block;
            }

            stores.StoreBlock(ref k, current, ref leftStore, ref rightStore);
        }

        stores.StoreBlock(ref k, first, ref leftStore, ref rightStore);
        if (block == lanes)
        {
            // kvpartition: the right-hand vector goes into the last gap, which starts at the left store point.
            int greater = stores.Store(ref k, last, leftStore, leftStore + lanes);
            return leftStore + lanes - greater;
        }

        stores.StoreBlock(ref k, last, ref leftStore, ref rightStore);
        return leftStore;
    }

    private static Span<ulong> Copy(ref ulong k, int start, int count, Span<ulong> destination)
    {
        MemoryMarshal.CreateReadOnlySpan(ref KeyRow.At(ref k, start), count).CopyTo(destination);
        return destination.Slice(0, count);
    }

    /// <summary>The two compress-stores of one vector, for one pivot and lane count.</summary>
    private readonly struct Stores(uint pivot, int lanes)
    {
        // The original's lanes: with AVX2 (4 lanes) the keys at or above the pivot are stored in reverse lane order.
        private readonly bool _reversesRight = lanes == 4;

        // Each vector of a block in memory order; the store points move as the vectors are stored.
        public void StoreBlock(ref ulong k, ReadOnlySpan<ulong> block, ref int leftStore, ref int rightStore)
        {
            for (int v = 0; v < block.Length; v += lanes)
            {
                int greater = Store(ref k, block.Slice(v, lanes), leftStore, rightStore + lanes);
                rightStore -= greater;
                leftStore += lanes - greater;
            }
        }

        // Lanes below the pivot from leftStore on, in lane order; the others ending at rightEnd. Returns how many
        // were at or above the pivot.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Store(ref ulong k, ReadOnlySpan<ulong> vector, int leftStore, int rightEnd)
        {
            if (Avx512F.VL.IsSupported)
            {
                return lanes == 8 ? Store512(ref k, vector, leftStore, rightEnd) : Store256(ref k, vector, leftStore, rightEnd);
            }

            int greater = 0;
            for (int lane = 0; lane < vector.Length; lane++)
            {
                greater += X86SimdSort.Load(vector[lane]) >= pivot ? 1 : 0;
            }

            int below = leftStore, above = _reversesRight ? rightEnd - 1 : rightEnd - greater;
            for (int lane = 0; lane < vector.Length; lane++)
            {
                ulong key = vector[lane];
                if (X86SimdSort.Load(key) < pivot)
                {
                    KeyRow.At(ref k, below++) = key;
                }
                else if (_reversesRight)
                {
                    KeyRow.At(ref k, above--) = key;
                }
                else
                {
                    KeyRow.At(ref k, above++) = key;
                }
            }

            return greater;
        }

        // A key's load is at least the pivot's exactly when the key is at least (pivot << 32): bit 63 is clear. Each
        // side is compressed in a register and written with a masked store of just its lanes (a compress straight to
        // memory is microcoded and slow on some processors).
        private unsafe int Store512(ref ulong k, ReadOnlySpan<ulong> vector, int leftStore, int rightEnd)
        {
            Vector512<ulong> keys = Vector512.Create(vector);
            Vector512<ulong> atLeast = Vector512.GreaterThanOrEqual(keys.AsInt64(), Vector512.Create((long)pivot << 32)).AsUInt64();
            int greater = BitOperations.PopCount(atLeast.ExtractMostSignificantBits());
            Vector512<ulong> laneIndex = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
            fixed (ulong* row = &k)
            {
                Avx512F.MaskStore(row + leftStore, Vector512.LessThan(laneIndex, Vector512.Create((ulong)(8 - greater))),
                    Avx512F.Compress(Vector512<ulong>.Zero, ~atLeast, keys));
                Avx512F.MaskStore(row + rightEnd - greater, Vector512.LessThan(laneIndex, Vector512.Create((ulong)greater)),
                    Avx512F.Compress(Vector512<ulong>.Zero, atLeast, keys));
            }

            return greater;
        }

        private unsafe int Store256(ref ulong k, ReadOnlySpan<ulong> vector, int leftStore, int rightEnd)
        {
            Vector256<ulong> keys = Vector256.Create(vector);
            Vector256<ulong> atLeast = Vector256.GreaterThanOrEqual(keys.AsInt64(), Vector256.Create((long)pivot << 32)).AsUInt64();
            int greater = BitOperations.PopCount(atLeast.ExtractMostSignificantBits());
            Vector256<ulong> reverse = Vector256.Create(3UL, 2, 1, 0), laneIndex = Vector256.Create(0UL, 1, 2, 3);
            fixed (ulong* row = &k)
            {
                Avx512F.VL.MaskStore(row + leftStore, Vector256.LessThan(laneIndex, Vector256.Create((ulong)(4 - greater))),
                    Avx512F.VL.Compress(Vector256<ulong>.Zero, ~atLeast, keys));
                Avx512F.VL.MaskStore(row + rightEnd - greater, Vector256.LessThan(laneIndex, Vector256.Create((ulong)greater)),
                    Avx512F.VL.Compress(Vector256<ulong>.Zero, Vector256.Shuffle(atLeast, reverse), Vector256.Shuffle(keys, reverse)));
            }

            return greater;
        }
    }
}
