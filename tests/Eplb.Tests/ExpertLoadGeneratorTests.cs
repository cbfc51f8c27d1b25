using Eplb.Workloads;
using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

public class ExpertLoadGeneratorTests
{
    [Fact]
    public void Generate_SameSeed_SameLoads()
    {
        float[,] a = ExpertLoadGenerator.Generate(4, 64, seed: 11);
        float[,] b = ExpertLoadGenerator.Generate(4, 64, seed: 11);
        float[,] c = ExpertLoadGenerator.Generate(4, 64, seed: 12);

        GoldenCase.Flatten<float>(a).Should().Equal(GoldenCase.Flatten<float>(b));
        GoldenCase.Flatten<float>(a).Should().NotEqual(GoldenCase.Flatten<float>(c));
    }

    [Fact]
    public void Generate_EveryLayer_DrawsFiveHundredTokensPerExpertAsIntegers()
    {
        float[,] w = ExpertLoadGenerator.Generate(5, 256, seed: 3);

        for (int l = 0; l < 5; l++)
        {
            double sum = 0;
            for (int e = 0; e < 256; e++)
            {
                w[l, e].Should().BeGreaterThanOrEqualTo(0).And.Be(MathF.Floor(w[l, e]));
                sum += w[l, e];
            }

            sum.Should().Be(500 * 256);
        }
    }

    [Fact]
    public void Generate_DeepSeekShape_MatchesPublishedSkew()
    {
        // load-model.md: per-layer max/mean about 6.5 on average, coefficient of variation about 0.73 (256 experts).
        float[,] w = ExpertLoadGenerator.Generate(58, 256, seed: 1);
        double maxOverMean = 0, cv = 0;
        for (int l = 0; l < 58; l++)
        {
            double[] row = Enumerable.Range(0, 256).Select(e => (double)w[l, e]).ToArray();
            double mean = row.Average();
            maxOverMean += row.Max() / mean / 58;
            cv += Math.Sqrt(row.Average(v => (v - mean) * (v - mean))) / mean / 58;
        }

        maxOverMean.Should().BeInRange(4.5, 8.5);
        cv.Should().BeInRange(0.55, 0.95);
    }

    [Fact]
    public void Generate_GroupCorrelation_MakesGroupTotalsMoreUneven()
    {
        static double GroupSpread(float[,] w)
        {
            double spread = 0;
            for (int l = 0; l < w.GetLength(0); l++)
            {
                double[] groups = Enumerable.Range(0, 8).Select(g => Enumerable.Range(g * 32, 32).Sum(e => (double)w[l, e])).ToArray();
                spread += groups.Max() / groups.Min();
            }

            return spread / w.GetLength(0);
        }

        GroupSpread(ExpertLoadGenerator.Generate(58, 256, 5, 8, groupCorrelation: true))
            .Should().BeGreaterThan(1.3 * GroupSpread(ExpertLoadGenerator.Generate(58, 256, 5, 8)));
    }

    [Fact]
    public void GenerateSeries_FirstStep_IsTheSingleWindowAndLaterStepsDrift()
    {
        float[][,] series = ExpertLoadGenerator.GenerateSeries(6, 3, 64, seed: 4);

        series.Should().HaveCount(6);
        GoldenCase.Flatten<float>(series[1]).Should().NotEqual(GoldenCase.Flatten<float>(series[0]));
        series.Should().OnlyContain(w => w.GetLength(0) == 3 && w.GetLength(1) == 64);
    }

    [Theory]
    [InlineData(0, 4, 1, "numLayers")]
    [InlineData(2, 0, 1, "numExperts")]
    [InlineData(2, 4, 0, "numGroups")]
    public void Generate_NonPositiveSize_ThrowsOutOfRange(int layers, int experts, int groups, string parameter) =>
        FluentActions.Invoking(() => ExpertLoadGenerator.Generate(layers, experts, 1, groups))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName(parameter);

    [Fact]
    public void Generate_GroupsNotDividingExperts_Throws() =>
        FluentActions.Invoking(() => ExpertLoadGenerator.Generate(2, 10, 1, 4)).Should().Throw<ArgumentException>().WithParameterName("numGroups");

    [Fact]
    public void GenerateSeries_NonPositiveSteps_ThrowsOutOfRange() =>
        FluentActions.Invoking(() => ExpertLoadGenerator.GenerateSeries(0, 2, 4, 1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("numSteps");

    [Theory]
    [InlineData(4_294_968)]                 // 500 tokens each overflowed int: every load came back zero
    [InlineData(ExpertLoadGenerator.MaxExperts + 1)]
    public void Generate_ExpertsBeyondLimit_ThrowsBeforeAllocating(int experts) =>
        FluentActions.Invoking(() => ExpertLoadGenerator.Generate(1, experts, 1)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("numExperts").WithMessage($"*at most ExpertLoadGenerator.MaxExperts ({ExpertLoadGenerator.MaxExperts})*");

    [Theory]
    [InlineData(256, 128_000L)]
    [InlineData(4_294_968, 2_147_484_000L)]
    [InlineData(int.MaxValue, 1_073_741_823_500L)]
    public void TokensPerLayer_AnyExpertCount_DoesNotOverflow(int experts, long tokens) =>
        ExpertLoadGenerator.TokensPerLayer(experts).Should().Be(tokens);

    [Fact]
    public void Generate_ManyExperts_EachLayerHoldsAllItsTokens()
    {
        float[,] w = ExpertLoadGenerator.Generate(1, 1 << 16, seed: 2);

        GoldenCase.Flatten<float>(w).Sum(x => (double)x).Should().Be(ExpertLoadGenerator.TokensPerExpert * (double)(1 << 16));
    }
}
