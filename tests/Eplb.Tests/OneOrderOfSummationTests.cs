using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>
/// Group loads are summed in one order on every machine, so real-valued loads give one plan whatever the vector
/// width. CI runs these tests with AVX-512 on and off, with AVX2 off and with 256-bit vectors preferred: each run
/// must equal the port, which sums in the documented order on its own.
/// </summary>
public class OneOrderOfSummationTests
{
    [Fact]
    public void FixedOrderSum_AnyLength_IsEightPartialsHalvedPairwise()
    {
        var random = new Random(31);
        for (int n = 0; n < 300; n++)
        {
            float[] values = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 1000)).ToArray();
            var partial = new float[8];
            for (int i = 0; i < n; i++)
            {
                partial[i % 8] += values[i];
            }

            float expected = ((partial[0] + partial[4]) + (partial[2] + partial[6])) + ((partial[1] + partial[5]) + (partial[3] + partial[7]));

            BitConverter.SingleToUInt32Bits(FixedOrderSum.Sum(values)).Should().Be(BitConverter.SingleToUInt32Bits(expected), $"n = {n}");
        }
    }

    [Theory]
    [InlineData(TieOrder.LibStdCxx)]
    [InlineData(TieOrder.X86SimdSortAvx512)]
    [InlineData(TieOrder.X86SimdSortAvx2)]
    public void RebalanceExperts_RealValuedGroupsOfTheSameValuesInOtherOrders_EqualsPort(TieOrder order)
    {
        // Every group holds the same 32 real values, shuffled: exact sums would tie, and rounded sums differ with the
        // order of summation. Before, TensorPrimitives.Sum added in the host's vector width, and 46 to 49 of 58 layers
        // came out different with AVX-512 on and off.
        var random = new Random(32);
        var w = new float[58, 256];
        for (int l = 0; l < 58; l++)
        {
            float[] values = Enumerable.Range(0, 32).Select(_ => (float)(Math.Exp(random.NextDouble() * 6) * 1.001)).ToArray();
            for (int g = 0; g < 8; g++)
            {
                float[] shuffled = values.OrderBy(_ => random.Next()).ToArray();
                for (int i = 0; i < 32; i++)
                {
                    w[l, (g * 32) + i] = shuffled[i];
                }
            }
        }

        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(w, 288, 8, 4, 32, new RebalanceOptions { TieOrder = order });
        var expected = StraightforwardPort.RebalanceExperts(w, 288, 8, 4, 32, order);

        PlanAssertions.ToArray(plan.PhysicalToLogical).Should().Equal(expected.Phy2Log);
        PlanAssertions.ToArray(plan.LogicalReplicaCount).Should().Equal(expected.LogCnt);
    }
}
