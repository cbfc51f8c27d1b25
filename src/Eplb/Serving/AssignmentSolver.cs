namespace Eplb;

/// <summary>
/// Maximum-weight assignment of rows to columns (a permutation) where most weights are zero, exactly: a maximum-weight
/// matching of the positive edges by the Hungarian method with Dijkstra searches over those edges only, completed by
/// pairing what is left in index order.
/// </summary>
/// <remarks>
/// <para>
/// A zero-weight pair may be part of any permutation, so a permutation's weight is that of its positive pairs, and
/// the best permutation is a maximum-weight matching of the positive edges plus any completion. The matching is the
/// minimum-cost assignment of every row to one of its columns (cost <c>-weight</c>) or to a dummy column of its own
/// (cost 0, "unmatched"). Dual potentials keep reduced costs non-negative: rows start at minus their heaviest edge,
/// columns at zero — a column's potential must stay zero while it is free, or a column left free at the end would
/// break optimality —; each row first takes a free column of its heaviest edge, and each row left is placed by a
/// Dijkstra search for its shortest augmenting path.
/// </para>
/// <para>
/// The search needs no heap: reduced costs are integers, and a free row reaches its own dummy column at its heaviest
/// weight, so no distance that matters exceeds that weight and a bucket per distance orders the search (Dial's
/// algorithm). Each search scans at most that many buckets, and the weights here are replica counts, so the searches
/// stay linear in the edges they touch.
/// </para>
/// <para>
/// Integer arithmetic throughout, rows in index order, ties by bucket order: the result is deterministic.
/// </para>
/// </remarks>
internal sealed class AssignmentSolver
{
    private int[] _rowStart = [];
    private long[] _rowDual = [];
    private long[] _columnDual = [];
    private int[] _columnRow = [];
    private int[] _rowColumn = [];
    private int[] _distance = [];
    private int[] _previousColumn = [];
    private bool[] _scanned = [];
    private int[] _scannedList = [];
    private int[] _reached = [];
    private bool[] _taken = [];
    private int[] _bucketHead = [];
    private int[] _entryColumn = [];
    private int[] _entryNext = [];

    /// <summary>The bytes of the scratch that grows with the edges rather than the rows.</summary>
    public long EdgeScratchBytes => (long)(_entryColumn.Length + _entryNext.Length) * sizeof(int);
    private int _entries;
    private int _reachedCount;

    /// <summary>
    /// Writes into <paramref name="result"/> the permutation (<c>result[row] = column</c>) of <paramref name="size"/>
    /// rows maximising the total weight of the edges <c>(row, column, weight)</c>: grouped by row in ascending order,
    /// each (row, column) at most once, weights positive.
    /// </summary>
    public void Maximize(int size, ReadOnlySpan<(int Row, int Column, int Weight)> edges, Span<int> result)
    {
        int heaviest = Prepare(size, edges);
        Scratch.Grow(ref _bucketHead, heaviest + 1);
        _bucketHead.AsSpan(0, heaviest + 1).Fill(-1);
        for (int row = 0; row < size; row++)
        {
            if (_rowColumn[row] < 0)
            {
                Augment(row, size, edges);
            }
        }

        // Rows matched to their dummy column take the free real columns in index order.
        Span<bool> taken = _taken.AsSpan(0, size);
        taken.Clear();
        for (int row = 0; row < size; row++)
        {
            int column = _rowColumn[row];
            result[row] = column < size ? column : -1;
            if (column < size)
            {
                taken[column] = true;
            }
        }

        int next = 0;
        for (int row = 0; row < size; row++)
        {
            if (result[row] < 0)
            {
                while (taken[next])
                {
                    next++;
                }

                taken[next] = true;
                result[row] = next;
            }
        }
    }

    /// <summary>The permutation of a small dense square matrix of weights with the largest total.</summary>
    public int[] Maximize(int[,] weights)
    {
        int n = weights.GetLength(0);
        var edges = new List<(int, int, int)>();
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                if (weights[r, c] > 0)
                {
                    edges.Add((r, c, weights[r, c]));
                }
            }
        }

        var result = new int[n];
        Maximize(n, [.. edges], result);
        return result;
    }

    // Indexes each row's edges (they are grouped by row already; a row's dummy column is implicit), sets the duals and
    // makes the greedy start; returns the heaviest weight.
    private int Prepare(int size, ReadOnlySpan<(int Row, int Column, int Weight)> edges)
    {
        int columns = 2 * size; // real columns, then one dummy per row
        Scratch.Grow(ref _rowStart, size + 1);
        Scratch.Grow(ref _rowDual, size);
        Scratch.Grow(ref _columnDual, columns);
        Scratch.Grow(ref _columnRow, columns);
        Scratch.Grow(ref _rowColumn, size);
        if (_distance.Length < columns)
        {
            _distance = new int[columns];
            _distance.AsSpan().Fill(int.MaxValue); // unreached; searches reset what they reach
        }

        Scratch.Grow(ref _previousColumn, columns);
        Scratch.Grow(ref _scanned, columns);
        Scratch.Grow(ref _scannedList, columns);
        Scratch.Grow(ref _reached, columns);
        Scratch.Grow(ref _taken, size);

        _columnDual.AsSpan(0, columns).Clear();
        _columnRow.AsSpan(0, columns).Fill(-1);
        int e = 0, heaviest = 0;
        for (int row = 0; row < size; row++)
        {
            int first = e, rowHeaviest = 0;
            for (; e < edges.Length && edges[e].Row == row; e++)
            {
                rowHeaviest = Math.Max(rowHeaviest, edges[e].Weight);
            }

            _rowStart[row] = first;
            _rowDual[row] = -rowHeaviest;
            heaviest = Math.Max(heaviest, rowHeaviest);

            // Greedy start: the first free column of the row's heaviest edges.
            _rowColumn[row] = -1;
            for (int k = first; k < e; k++)
            {
                int column = edges[k].Column;
                if (_columnRow[column] < 0 && edges[k].Weight == rowHeaviest)
                {
                    _columnRow[column] = row;
                    _rowColumn[row] = column;
                    break;
                }
            }
        }

        _rowStart[size] = e;
        return heaviest;
    }

    // The shortest augmenting path from a free row (Dijkstra on reduced costs), then the dual update that keeps them
    // non-negative and the path's edges tight. The row's own dummy column is free at distance -rowDual (its heaviest
    // weight), so the search ends by then and only buckets up to that distance are used.
    private void Augment(int start, int size, ReadOnlySpan<(int Row, int Column, int Weight)> edges)
    {
        int limit = (int)-_rowDual[start];
        int scannedCount = 0;
        _entries = 0;
        _reachedCount = 0;
        Relax(start, 0, -1, limit, size, edges);
        int found = -1, length = 0;
        for (int bucket = 0; found < 0; bucket++)
        {
            while (_bucketHead[bucket] >= 0)
            {
                int entry = _bucketHead[bucket];
                _bucketHead[bucket] = _entryNext[entry];
                int column = _entryColumn[entry];
                if (_scanned[column] || _distance[column] != bucket)
                {
                    continue; // entered again at a shorter distance
                }

                _scanned[column] = true;
                _scannedList[scannedCount++] = column;
                int row = _columnRow[column];
                if (row < 0)
                {
                    found = column;
                    length = bucket;
                    break;
                }

                Relax(row, bucket, column, limit, size, edges);
            }
        }

        for (int bucket = length; bucket <= limit; bucket++)
        {
            _bucketHead[bucket] = -1;
        }

        // Duals: scanned columns move by (distance - length); rows on the tree by the opposite, so matched edges stay
        // tight; the start row by the path's length.
        for (int i = 0; i < scannedCount; i++)
        {
            int column = _scannedList[i];
            long shift = _distance[column] - length;
            _columnDual[column] += shift;
            int row = _columnRow[column];
            if (row >= 0)
            {
                _rowDual[row] -= shift;
            }

            _scanned[column] = false;
        }

        _rowDual[start] += length;
        for (int i = 0; i < _reachedCount; i++)
        {
            _distance[_reached[i]] = int.MaxValue;
        }

        // Flip the path.
        for (int column = found; column >= 0;)
        {
            int previous = _previousColumn[column];
            int row = previous < 0 ? start : _columnRow[previous];
            _columnRow[column] = row;
            _rowColumn[row] = column;
            column = previous;
        }
    }

    // Tentative distances through row's edges, then through its dummy column (cost 0).
    private void Relax(int row, int rowDistance, int viaColumn, int limit, int size, ReadOnlySpan<(int Row, int Column, int Weight)> edges)
    {
        long rowDual = _rowDual[row];
        for (int k = _rowStart[row]; k <= _rowStart[row + 1]; k++)
        {
            (int column, int cost) = k < _rowStart[row + 1] ? (edges[k].Column, -edges[k].Weight) : (size + row, 0);
            long candidate = rowDistance + cost - rowDual - _columnDual[column];
            if (candidate > limit || candidate >= _distance[column] || _scanned[column])
            {
                continue;
            }

            if (_distance[column] == int.MaxValue)
            {
                _reached[_reachedCount++] = column;
            }

            _distance[column] = (int)candidate;
            _previousColumn[column] = viaColumn;
            if (_entries == _entryColumn.Length)
            {
                Array.Resize(ref _entryColumn, Math.Max(64, 2 * _entries));
                Array.Resize(ref _entryNext, _entryColumn.Length);
            }

            _entryColumn[_entries] = column;
            _entryNext[_entries] = _bucketHead[candidate];
            _bucketHead[candidate] = _entries++;
        }
    }
}
