using FluentAssertions;
using System.Numerics.Tensors;

namespace Eplb.Tests;

internal static class PlanAssertions
{
    public static int[] ToArray(ReadOnlyTensorSpan<int> tensor)
    {
        var flat = new int[tensor.FlattenedLength];
        tensor.FlattenTo(flat);
        return flat;
    }

    /// <summary>All three outputs, element for element, and every shape.</summary>
    public static void ShouldMatch(this RebalancePlan plan, GoldenCase expected)
    {
        plan.Policy.Should().Be(expected.Policy);
        plan.NumLayers.Should().Be(expected.NumLayers);
        plan.NumLogicalExperts.Should().Be(expected.NumExperts);
        plan.NumPhysicalExperts.Should().Be(expected.NumReplicas);
        plan.MaxReplicaCount.Should().Be(expected.LogicalToPhysical.GetLength(2));
        plan.PhysicalToLogical.Lengths.ToArray().Should().Equal([expected.NumLayers, (nint)expected.NumReplicas]);
        ToArray(plan.PhysicalToLogical).Should().Equal(GoldenCase.Flatten<int>(expected.PhysicalToLogical), "phy2log must match");
        ToArray(plan.LogicalToPhysical).Should().Equal(GoldenCase.Flatten<int>(expected.LogicalToPhysical), "log2phy must match");
        ToArray(plan.LogicalReplicaCount).Should().Equal(GoldenCase.Flatten<int>(expected.LogicalReplicaCount), "logcnt must match");
    }
}
