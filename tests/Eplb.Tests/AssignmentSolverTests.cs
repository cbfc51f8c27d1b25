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
    public void Maximize_LargeSparseMatrices_MatchesDenseHungarian()
    {
        // Relabelling's graphs: each row shares a few experts with a few columns, weights small, ties everywhere —
        // where forced pairs settle most rows and the search the rest.
        var random = new Random(29);
        var solver = new AssignmentSolver();
        for (int i = 0; i < 300; i++)
        {
            int n = random.Next(8, 160), degree = random.Next(1, 5), heaviest = random.Next(1, 4);
            var weights = new int[n, n];
            for (int r = 0; r < n; r++)
            {
                for (int k = 0; k < degree; k++)
                {
                    weights[r, random.Next(n)] = random.Next(1, heaviest + 1);
                }
            }

            int[] permutation = solver.Maximize(weights);

            permutation.Order().Should().Equal(Enumerable.Range(0, n), "the result is a permutation");
            Total(weights, permutation).Should().Be(DenseHungarianTotal(weights), $"case {i}: {n} rows, degree {degree}");
        }
    }

    [Fact]
    public void SmallAssignment_RandomMatrices_MatchesBruteForceAndDenseHungarian()
    {
        // The vector form for up to 16 x 16: brute force where it is cheap, the textbook method beyond.
        var random = new Random(31);
        var padded = new int[SmallAssignment.MaxSize * SmallAssignment.MaxSize];
        var permutation = new int[SmallAssignment.MaxSize];
        for (int i = 0; i < 3000; i++)
        {
            int n = random.Next(1, SmallAssignment.MaxSize + 1), heaviest = random.Next(1, 10);
            double density = random.NextDouble();
            var weights = new int[n, n];
            Array.Fill(padded, random.Next(0, 3)); // whatever lies beyond the matrix must not matter
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    weights[r, c] = random.NextDouble() < density ? random.Next(1, heaviest + 1) : 0;
                    padded[(r * SmallAssignment.MaxSize) + c] = weights[r, c];
                }
            }

            int total = SmallAssignment.Maximize(padded, n, permutation);

            permutation[..n].Order().Should().Equal(Enumerable.Range(0, n), "the result is a permutation");
            Total(weights, permutation[..n]).Should().Be(total, "the total returned is the permutation's");
            total.Should().Be(n <= 7 ? BestTotal(weights) : DenseHungarianTotal(weights), $"case {i}: {n} x {n}");
        }
    }

    [Fact]
    public void Maximize_NoPositiveWeights_IsTheIdentity()
    {
        new AssignmentSolver().Maximize(new int[4, 4]).Should().Equal(0, 1, 2, 3);
    }

    private static int Total(int[,] weights, int[] permutation) => Enumerable.Range(0, permutation.Length).Sum(r => weights[r, permutation[r]]);

    // The textbook O(n^3) Hungarian method on the dense matrix (minimising -weight), as an independent oracle.
    internal static int DenseHungarianTotal(int[,] weights)
    {
        int n = weights.GetLength(0);
        var u = new long[n + 1];
        var v = new long[n + 1];
        var p = new int[n + 1];
        var way = new int[n + 1];
        for (int i = 1; i <= n; i++)
        {
            p[0] = i;
            int j0 = 0;
            var minv = Enumerable.Repeat(long.MaxValue, n + 1).ToArray();
            var used = new bool[n + 1];
            do
            {
                used[j0] = true;
                int i0 = p[j0], j1 = 0;
                long delta = long.MaxValue;
                for (int j = 1; j <= n; j++)
                {
                    if (!used[j])
                    {
                        long cur = -weights[i0 - 1, j - 1] - u[i0] - v[j];
                        if (cur < minv[j])
                        {
                            minv[j] = cur;
                            way[j] = j0;
                        }

                        if (minv[j] < delta)
                        {
                            delta = minv[j];
                            j1 = j;
                        }
                    }
                }

                for (int j = 0; j <= n; j++)
                {
                    if (used[j])
                    {
                        u[p[j]] += delta;
                        v[j] -= delta;
                    }
                    else
                    {
                        minv[j] -= delta;
                    }
                }

                j0 = j1;
            }
            while (p[j0] != 0);
            do
            {
                int j1 = way[j0];
                p[j0] = p[j1];
                j0 = j1;
            }
            while (j0 != 0);
        }

        int total = 0;
        for (int j = 1; j <= n; j++)
        {
            total += weights[p[j] - 1, j - 1];
        }

        return total;
    }

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
