using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// A complete 4-ary tree whose root holds the minimum of its leaves' 64-bit keys, updated without branches.
/// </summary>
/// <remarks>
/// Packing and replication each repeatedly take a minimum and change only the winner's key. Keys are built so
/// that unsigned order is exactly the reference's choice, ties included (<see cref="ShareKey"/>,
/// <see cref="PackKey"/>), and a winner that must never win again gets <see cref="ulong.MaxValue"/>. Which of
/// two keys is smaller is a coin toss on real loads, so a heap's comparisons mispredict half the time; here every
/// comparison feeds a mask and the only branches are loop bounds. The tree is 4-ary, so an update has half the
/// levels of a binary tree, and at each level the minimum of the three siblings is computed off the dependency chain. Layout: node 1 is the root, node i has children
/// 4i .. 4i+3 (a node's siblings are x^1, x^2, x^3), leaf j is node <c>leaves + j</c>; indices between levels
/// are unused.
/// </remarks>
internal static class TournamentTree
{
    /// <summary>The most leaves a tree holds; callers' sizes are bounded far below by <see cref="RebalanceLimits"/>.</summary>
    public const int MaxCount = 1 << 28;

    /// <summary>Tree nodes needed for <paramref name="count"/> leaves.</summary>
    public static int Length(int count) => 2 * Leaves(count);

    /// <summary>The leaf count: <paramref name="count"/> rounded up to a power of four (1 for 0 or 1).</summary>
    public static int Leaves(int count)
    {
        Debug.Assert(count is >= 0 and <= MaxCount, "tree sizes are validated against RebalanceLimits");
        int log2 = count <= 1 ? 0 : BitOperations.Log2((uint)(count - 1)) + 1; // ceil(log2(count))
        return 1 << ((log2 + 1) & ~1);
    }

    /// <summary>Fills internal nodes once the leaves <c>tree[leaves .. 2*leaves)</c> are set.</summary>
    public static void Build(Span<ulong> tree, int leaves)
    {
        for (int level = leaves / 4; level >= 1; level /= 4)
        {
            for (int i = level; i < 2 * level; i++)
            {
                tree[i] = Min(Min(tree[4 * i], tree[(4 * i) + 1]), Min(tree[(4 * i) + 2], tree[(4 * i) + 3]));
            }
        }
    }

    /// <summary>Sets one leaf and recomputes the minimums on its path to the root; returns the new root.</summary>
    /// <remarks>Callers keep the returned root in a register rather than reading it back from the tree.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Update(Span<ulong> tree, int leaves, int leaf, ulong value)
    {
        int at = leaves + leaf;
        tree[at] = value;

        // Each parent is min(this path's value, its siblings): the running minimum stays in a register, and
        // siblings are not written by this update, so no level waits on the store before it. The path's minimum
        // is the only dependent step per level; in a vector register it is one vpminuq where AVX-512 exists.
        Vector128<ulong> path = Vector128.CreateScalarUnsafe(value);
        for (; at >= 4; at >>= 2)
        {
            ulong siblings = Min(Min(tree[at ^ 1], tree[at ^ 2]), tree[at ^ 3]);
            path = Vector128.Min(path, Vector128.CreateScalarUnsafe(siblings));
            tree[at >> 2] = path.ToScalar();
        }

        return path.ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Min(ulong a, ulong b)
    {
        ulong mask = 0UL - (a < b ? 1UL : 0UL); // setcc, not a jump
        return b ^ ((a ^ b) & mask);
    }
}
