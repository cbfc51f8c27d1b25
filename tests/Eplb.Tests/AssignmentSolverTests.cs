using FluentAssertions;
using Xunit;

namespace Eplb.Tests;

/// <summary>The sparse assignment solver against every permutation on small matrices.</summary>
public class AssignmentSolverTests
{
    [Fact]
    public void Maximize_RandomSparseMatrices_MatchesBruteForce()
    {
        var random = new Random(23);
        var solver = new AssignmentSolver();
        for (int i = 0; i < 2000; i++)
        {
            int n = random.Next(1, 8);
            double density = random.NextDouble();
            var weights = new int[n, n];
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    weights[r, c] = random.NextDouble() < density ? random.Next(1, 5) : 0;
                }
            }

            int[] permutation = solver.Maximize(weights);

            permutation.Order().Should().Equal(Enumerable.Range(0, n), "the result is a permutation");
            Total(weights, permutation).Should().Be(BestTotal(weights), $"case {i}");
        }
    }

    [Fact]
    public void Maximize_NoPositiveWeights_IsTheIdentity()
    {
        new AssignmentSolver().Maximize(new int[4, 4]).Should().Equal(0, 1, 2, 3);
    }

    private static int Total(int[,] weights, int[] permutation) => Enumerable.Range(0, permutation.Length).Sum(r => weights[r, permutation[r]]);

    private static int BestTotal(int[,] weights)
    {
        int n = weights.GetLength(0), best = 0;
        void Search(int row, int used, int total)
        {
            if (row == n)
            {
                best = Math.Max(best, total);
                return;
            }

            for (int c = 0; c < n; c++)
            {
                if ((used & (1 << c)) == 0)
                {
                    Search(row + 1, used | (1 << c), total + weights[row, c]);
                }
            }
        }

        Search(0, 0, 0);
        return best;
    }
}
