using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// Maximum-weight assignment of a dense square matrix of at most 16 × 16, exactly: the Hungarian method in its
/// shortest-augmenting-path form (Kuhn and Munkres, as Jonker and Volgenant arrange it), with the columns as the lanes
/// of one vector.
/// </summary>
/// <remarks>
/// <para>
/// Relabelling under the hierarchical policy solves one such problem per pair of nodes that share experts — 8 GPUs
/// against 8 in DeepSeek-V3's clusters — several per layer. Their weights are small integers with many ties, which
/// makes a scalar search branch on data at every step; here each step of the search is a handful of vector
/// operations over all columns at once (reduced costs, slacks, potentials, the closest column), and only the path's
/// length is a loop.
/// </para>
/// <para>
/// Integers throughout, rows inserted in order, the lowest column on ties: the result is the same on every machine,
/// with or without vector hardware.
/// </para>
/// </remarks>
internal static class SmallAssignment
{
    /// <summary>The largest problem: one column per lane of a <see cref="Vector512{T}"/> of <see cref="int"/>.</summary>
    public const int MaxSize = 16;

    // Larger than any reduced cost: weights are at most a GPU's slots, so potentials stay far below this.
    private const int Unreached = int.MaxValue / 2;

    /// <summary>
    /// Writes into <paramref name="result"/> the permutation (<c>result[row] = column</c>) maximising the total of
    /// <paramref name="weights"/>: row <c>r</c> is <c>weights[r * 16 .. r * 16 + size)</c>, non-negative and small.
    /// </summary>
    /// <returns>The total weight of the permutation.</returns>
    public static int Maximize(ReadOnlySpan<int> weights, int size, Span<int> result)
    {
        // The textbook method with a virtual column 0 that holds the row being inserted; the lanes are columns
        // 1 … size of the textbook (lane j is column j + 1), so column 0 is kept in scalars.
        Vector512<int> lanes = Vector512<int>.Indices;
        Vector512<int> outside = Vector512.GreaterThanOrEqual(lanes, Vector512.Create(size));
        Vector512<int> columnPotential = Vector512<int>.Zero;
        Span<int> rowOfColumn = stackalloc int[MaxSize]; // 1-based row in each column, 0 for none
        Span<int> way = stackalloc int[MaxSize];
        Span<int> potentials = stackalloc int[MaxSize];
        rowOfColumn.Clear();
        potentials.Clear();
        uint unmatched = MatchRowsToTheirHeaviestColumns(weights, size, rowOfColumn, potentials);
        Vector512<int> rowPotentialOfColumn = Vector512.Create<int>(potentials);
        for (; unmatched != 0; unmatched &= unmatched - 1)
        {
            int row = BitOperations.TrailingZeroCount(unmatched) + 1;
            Vector512<int> slack = Vector512.Create(Unreached), from = Vector512<int>.Zero, used = outside;
            int column = 0, insertedPotential = 0; // column 0 holds the row being inserted, at potential 0
            while (true)
            {
                int scanRow = column == 0 ? row : rowOfColumn[column - 1];
                int scanPotential = column == 0 ? insertedPotential : rowPotentialOfColumn.GetElement(column - 1);
                Vector512<int> cost = -Vector512.Create(weights.Slice((scanRow - 1) * MaxSize, MaxSize));
                Vector512<int> reduced = cost - Vector512.Create(scanPotential) - columnPotential;
                Vector512<int> closer = Vector512.AndNot(Vector512.LessThan(reduced, slack), used);
                slack = Vector512.ConditionalSelect(closer, reduced, slack);
                from = Vector512.ConditionalSelect(closer, Vector512.Create(column), from);

                Vector512<int> open = Vector512.ConditionalSelect(used, Vector512.Create(Unreached), slack);
                int delta = HorizontalMin(open);
                int next = BitOperations.TrailingZeroCount(Vector512.Equals(open, Vector512.Create(delta)).ExtractMostSignificantBits()) + 1;

                // Used columns (and the inserted row) move by delta; the others' slack shrinks by it.
                Vector512<int> shift = used & Vector512.Create(delta);
                insertedPotential += delta;
                rowPotentialOfColumn += shift;
                columnPotential -= shift;
                slack -= Vector512.AndNot(Vector512.Create(delta), used);

                used |= Vector512.Equals(lanes, Vector512.Create(next - 1));
                column = next;
                if (rowOfColumn[column - 1] == 0)
                {
                    break;
                }
            }

            // Flip the path back to column 0: each column on it takes the row (and potential) of the one before.
            from.CopyTo(way);
            rowPotentialOfColumn.CopyTo(potentials);
            while (column != 0)
            {
                int previous = way[column - 1];
                rowOfColumn[column - 1] = previous == 0 ? row : rowOfColumn[previous - 1];
                potentials[column - 1] = previous == 0 ? insertedPotential : potentials[previous - 1];
                column = previous;
            }

            rowPotentialOfColumn = Vector512.Create<int>(potentials);
        }

        int total = 0;
        for (int c = 0; c < size; c++)
        {
            int r = rowOfColumn[c] - 1;
            result[r] = c;
            total += weights[(r * MaxSize) + c];
        }

        return total;
    }

    // The warm start: each row's potential is its heaviest weight (as a cost, its negation), which leaves every
    // reduced cost non-negative, and each row in order takes the lowest free column where it reaches that weight, if
    // any — a tight edge, so the search's invariants hold and only the rows left over need a search. On the small,
    // tie-rich overlaps of relabelling most rows find one. Returns the rows left over as a mask (bit r: row r + 1).
    private static uint MatchRowsToTheirHeaviestColumns(ReadOnlySpan<int> weights, int size, Span<int> rowOfColumn, Span<int> potentials)
    {
        Vector512<int> outside = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(size));
        uint taken = 0, unmatched = 0;
        for (int row = 1; row <= size; row++)
        {
            Vector512<int> weight = Vector512.ConditionalSelect(outside, Vector512.Create(int.MinValue), Vector512.Create(weights.Slice((row - 1) * MaxSize, MaxSize)));
            int heaviest = HorizontalMax(weight);
            uint open = (uint)Vector512.Equals(weight, Vector512.Create(heaviest)).ExtractMostSignificantBits() & ~taken;
            if (open == 0)
            {
                unmatched |= 1u << (row - 1);
                continue;
            }

            int column = BitOperations.TrailingZeroCount(open);
            taken |= 1u << column;
            rowOfColumn[column] = row;
            potentials[column] = -heaviest;
        }

        return unmatched;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HorizontalMax(Vector512<int> values)
    {
        Vector256<int> half = Vector256.Max(values.GetLower(), values.GetUpper());
        Vector128<int> quarter = Vector128.Max(half.GetLower(), half.GetUpper());
        quarter = Vector128.Max(quarter, Vector128.Shuffle(quarter, Vector128.Create(2, 3, 0, 1)));
        quarter = Vector128.Max(quarter, Vector128.Shuffle(quarter, Vector128.Create(1, 0, 3, 2)));
        return quarter.ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HorizontalMin(Vector512<int> values)
    {
        Vector256<int> half = Vector256.Min(values.GetLower(), values.GetUpper());
        Vector128<int> quarter = Vector128.Min(half.GetLower(), half.GetUpper());
        quarter = Vector128.Min(quarter, Vector128.Shuffle(quarter, Vector128.Create(2, 3, 0, 1)));
        quarter = Vector128.Min(quarter, Vector128.Shuffle(quarter, Vector128.Create(1, 0, 3, 2)));
        return quarter.ToScalar();
    }
}
