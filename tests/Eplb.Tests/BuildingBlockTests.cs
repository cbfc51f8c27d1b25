using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>balanced_packing and replicate_experts on small inputs worked by hand.</summary>
public class BuildingBlockTests
{
    [Fact]
    public void Pack_FourItemsTwoPacks_PairsHeaviestWithLightest()
    {
        // Sorted: 9 (item 1), 7 (item 3), 4 (item 0), 1 (item 2). 9 -> pack 0; 7 -> pack 1; 4 -> pack 1 (7 < 9); 1 -> pack 0.
        var (pack, rank) = BalancedPacking.Pack(new float[,] { { 4, 9, 1, 7 } }, 2);

        Row(pack).Should().Equal(1, 0, 0, 1);
        Row(rank).Should().Equal(1, 0, 1, 0);
    }

    [Fact]
    public void Pack_OneItemPerPack_IsIdentityWithoutSorting()
    {
        var (pack, rank) = BalancedPacking.Pack(new float[,] { { 5, 1, 9 } }, 3);

        Row(pack).Should().Equal(0, 1, 2);
        Row(rank).Should().Equal(0, 0, 0);
    }

    [Fact]
    public void Pack_AllTied_FillsLowestPacksFirstOnEqualLoad()
    {
        // Zeros everywhere: every pack stays at load 0, so each item takes the lowest pack with room.
        var (pack, _) = BalancedPacking.Pack(new float[,] { { 0, 0, 0, 0, 0, 0 } }, 3);

        Row(pack).Should().Equal(0, 0, 1, 1, 2, 2);
    }

    [Fact]
    public void Replicate_HotExpert_GetsTheSpareSlots()
    {
        // 8/1 = 8 beats 3 and 2; then 8/2 = 4 still beats 3; then 8/3 = 2.67 loses to 3.
        var (phy2log, rank, count) = ExpertReplication.Replicate(new float[,] { { 3, 8, 2 } }, 6);

        Row(phy2log).Should().Equal(0, 1, 2, 1, 1, 0);
        Row(rank).Should().Equal(0, 0, 0, 1, 2, 1);
        Row(count).Should().Equal(2, 3, 1);
    }

    [Fact]
    public void Replicate_TiedShares_PicksFirstIndex()
    {
        var (phy2log, _, count) = ExpertReplication.Replicate(new float[,] { { 4, 4, 4 } }, 5);

        Row(phy2log).Should().Equal(0, 1, 2, 0, 1);
        Row(count).Should().Equal(2, 2, 1);
    }

    private static int[] Row(int[,] matrix) => GoldenCase.Flatten<int>(matrix);
}
