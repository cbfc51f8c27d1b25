using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Eplb;

/// <summary>
/// Replication's choices when a row adds at most eight slots, from one AVX-512 vector holding the eight best
/// candidates in order, instead of a tree over every expert.
/// </summary>
/// <remarks>
/// <para>
/// Keys are the tree's <see cref="ShareKey"/>s, so the unsigned minimum is the largest share and, on equal
/// shares, the lowest expert. With <c>r</c> slots to add, only the <c>r</c> best keys can ever be chosen:
/// an expert is first chosen only after every expert with a better initial key, and a chosen expert's new key
/// re-enters the candidates. Keeping the eight best, and dropping the worst whenever a key enters, therefore
/// always holds the best key among all experts for each of the (at most eight) choices.
/// </para>
/// <para>
/// A choice takes lane 0 and merges the expert's next key back in order with <c>min(max(K, k), K')</c>, <c>K'</c>
/// being <c>K</c> shifted down a lane — the chain from one choice to the next is a load and a few vector
/// instructions, where a tree update is a load and a compare per level. Building the candidates is one branch-free
/// insertion per expert, <c>max(min(K, k), K shifted up)</c>, in two independent halves merged at the end.
/// </para>
/// </remarks>
internal static class ShareVector
{
    /// <summary>The most slots a row may add for this path.</summary>
    public const int MaxAdded = 8;

    /// <summary>True when this machine can add <paramref name="added"/> slots with a vector of candidates.</summary>
    public static bool IsSupported(int added) => Avx512F.IsSupported && added <= MaxAdded;

    /// <summary>
    /// Chooses the expert of each slot <c>k .. numPhysical - 1</c>. <paramref name="keys"/> holds every expert's
    /// key and is kept current (it is where the final shares are read); <paramref name="nextShare"/> and
    /// <paramref name="shareAfter"/> hold <c>w / (count + 1)</c> and <c>w / (count + 2)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ChooseSlots(ReadOnlySpan<float> weight, int numPhysical, Span<int> physicalToLogical, Span<int> replicaRank,
        Span<int> logicalReplicaCount, Span<ulong> keys, Span<float> nextShare, Span<float> shareAfter)
    {
        int k = weight.Length;
        Vector512<ulong> best = BestEight(keys.Slice(0, k));
        Vector512<ulong> none = Vector512<ulong>.AllBitsSet;
        for (int slot = k; slot < numPhysical; slot++)
        {
            int expert = ShareKey.ExpertOf(best.ToScalar());
            int count = logicalReplicaCount[expert];
            physicalToLogical[slot] = expert;
            replicaRank[slot] = count;
            logicalReplicaCount[expert] = count + 1;

            ulong key = ShareKey.Create(nextShare[expert], expert);
            keys[expert] = key;
            best = Vector512.Min(Vector512.Max(best, Vector512.Create(key)), Avx512F.AlignRight64(none, best, 1));
            nextShare[expert] = shareAfter[expert];
            shareAfter[expert] = weight[expert] / (count + 3);
        }
    }

    // The eight smallest keys in ascending order (all ones where there are fewer): two insertion chains over the
    // even and odd experts, which the processor overlaps, then the odd chain's keys inserted into the even's.
    private static Vector512<ulong> BestEight(ReadOnlySpan<ulong> keys)
    {
        Vector512<ulong> even = Vector512<ulong>.AllBitsSet, odd = Vector512<ulong>.AllBitsSet;
        int j = 0;
        for (; j + 1 < keys.Length; j += 2)
        {
            even = Insert(even, Vector512.Create(keys[j]));
            odd = Insert(odd, Vector512.Create(keys[j + 1]));
        }

        if (j < keys.Length)
        {
            even = Insert(even, Vector512.Create(keys[j]));
        }

        for (ulong lane = 0; lane < 8; lane++)
        {
            even = Insert(even, Avx512F.PermuteVar8x64(odd, Vector512.Create(lane)));
        }

        return even;
    }

    // Inserts the broadcast key in order; the largest of the nine falls off the end.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Insert(Vector512<ulong> sorted, Vector512<ulong> key) =>
        Vector512.Max(Vector512.Min(sorted, key), Avx512F.AlignRight64(sorted, Vector512<ulong>.Zero, 7));
}
