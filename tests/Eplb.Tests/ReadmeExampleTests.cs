using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>The example from the reference README (deepseek-ai/EPLB), spelled out.</summary>
public class ReadmeExampleTests
{
    private static readonly float[,] s_weight =
    {
        { 90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86 },
        { 20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27 },
    };

    [Fact]
    public void RebalanceExperts_ReadmeExample_PrintsReferencePhysicalToLogical()
    {
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(s_weight, numReplicas: 16, numGroups: 4, numNodes: 2, numGpus: 8);

        plan.Policy.Should().Be(RebalancePolicy.Hierarchical);
        plan.GetPhysicalToLogical(0).ToArray().Should().Equal(5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1);
        plan.GetPhysicalToLogical(1).ToArray().Should().Equal(7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1);
    }

    [Fact]
    public void RebalanceExperts_ReadmeExample_IndexesLikeTheReference()
    {
        RebalancePlan plan = ExpertLoadBalancer.RebalanceExperts(s_weight, 16, 4, 2, 8);

        // plan.PhysicalToLogical[layer, slot] reads like phy2log[layer, slot] in Python.
        plan.PhysicalToLogical[1, 0].Should().Be(7);
        plan.LogicalReplicaCount[0, 5].Should().Be(2);        // expert 5 of layer 0 is hot: two replicas
        plan.LogicalToPhysical[0, 5, 0].Should().Be(0);
        plan.LogicalToPhysical[0, 5, 1].Should().Be(2);
        plan.LogicalToPhysical[0, 0, 1].Should().Be(-1);      // padding
        plan.GetLogicalToPhysical(0, 5).ToArray().Should().Equal(0, 2);
    }
}
