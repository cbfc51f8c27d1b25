using System.Runtime.InteropServices;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>
/// The invariant the reference sort's unguarded scans rest on: every path compares keys the same way, and keys made
/// from loads always have bit 63 clear.
/// </summary>
public class SortKeyTests
{
    private const ulong Guard = 0xDEAD_BEEF_DEAD_BEEFUL;

    [Fact]
    public void LibStdCxxSortSortDescending_KeysOfAnyBits_StaysInsideItsRowAndSorts()
    {
        // Keys with bit 63 set are what negative loads used to make. The vector partition compared them signed and
        // the scalar scans unsigned, so the scans ran past the row: 18,335 of these 20,000 sorts wrote outside it.
        // Every compare is now SortKey's signed one: any bits give an in-bounds permutation in that order.
        var random = new Random(20);
        for (int i = 0; i < 20_000; i++)
        {
            int n = random.Next(17, 300);
            var buffer = new ulong[n + 16];
            Array.Fill(buffer, Guard);
            Span<ulong> row = buffer.AsSpan(8, n);
            for (int j = 0; j < n; j++)
            {
                ulong load = i % 2 == 0
                    ? BitConverter.SingleToUInt32Bits(-(float)random.Next(0, 5)) // negative floats' bits
                    : (ulong)random.NextInt64() >> random.Next(0, 33);          // anything at all
                row[j] = (load << 32) | (uint)j;
            }

            LibStdCxxSort.SortDescending(MemoryMarshal.Cast<ulong, SortKey>(row));

            buffer.AsSpan(0, 8).ToArray().Should().OnlyContain(x => x == Guard, "nothing is written before the row");
            buffer.AsSpan(8 + n).ToArray().Should().OnlyContain(x => x == Guard, "nothing is written after the row");
            row.ToArray().Select(k => (int)(uint)k).Order().Should().Equal(Enumerable.Range(0, n));
            for (int j = 1; j < n; j++)
            {
                SortKey.IsBefore(row[j], row[j - 1]).Should().BeFalse("the row is in SortKey's descending order");
            }
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1.5f)]
    [InlineData(float.MaxValue)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.Epsilon)]
    public void SortKeyCreate_AnyValidLoad_HasBit63ClearAndRoundTrips(float load)
    {
        SortKey key = SortKey.Create(load, 12345);

        (key.Bits >> 63).Should().Be(0);
        key.Index.Should().Be(12345);
        BitConverter.SingleToUInt32Bits(key.Load).Should().Be(BitConverter.SingleToUInt32Bits(load));
    }

    [Fact]
    public void SortKeyCreate_NegativeZero_IsPositiveZero()
    {
        SortKey.Create(-0f, 3).Should().Be(SortKey.Create(0f, 3));
        SortKey.Create(-0f, 3).LoadHalf.Should().Be(0);
    }

    [Fact]
    public void SortKeyIsBefore_ComparesLoadsAlone()
    {
        SortKey.IsBefore(SortKey.Create(2f, 9), SortKey.Create(1f, 0)).Should().BeTrue();
        SortKey.IsBefore(SortKey.Create(1f, 0), SortKey.Create(2f, 9)).Should().BeFalse();
        SortKey.IsBefore(SortKey.Create(1f, 0), SortKey.Create(1f, 9)).Should().BeFalse("equal loads: neither comes first");
        SortKey.IsBefore(SortKey.Create(1f, 9), SortKey.Create(1f, 0)).Should().BeFalse("equal loads: neither comes first");
        SortKey.IsBefore(SortKey.Create(0f, 1), SortKey.Create(-0f, 0)).Should().BeFalse("-0 is +0");
    }

    [Fact]
    public void ShareKey_UnsignedMinimum_IsLargestShareThenLowestExpert()
    {
        ulong[] keys = [ShareKey.Create(3f, 0), ShareKey.Create(5f, 4), ShareKey.Create(5f, 2), ShareKey.Create(0f, 1)];

        ShareKey.ExpertOf(keys.Min()).Should().Be(2);
        ShareKey.ToSortKey(ShareKey.Create(5f, 2), 7).Should().Be(SortKey.Create(5f, 7));
        ShareKey.ToSortKey(ShareKey.Create(-0f, 2), 7).Should().Be(SortKey.Create(0f, 7));
    }

    [Fact]
    public void PackSlotKey_NextSlot_IsFirstSlotPlusCount()
    {
        ulong key = PackSlotKey.Create(SortKey.Create(2.5f, 0).LoadHalf, firstSlot: 40, count: 3);

        PackSlotKey.NextSlot((uint)key).Should().Be(43);
        (key < PackSlotKey.Create(SortKey.Create(2.5f, 0).LoadHalf, firstSlot: 41, count: 0)).Should().BeTrue("the lower pack wins a tie");
        (key < PackSlotKey.Create(SortKey.Create(2f, 0).LoadHalf, firstSlot: 80, count: 9)).Should().BeFalse("the lighter pack wins");
    }
}
