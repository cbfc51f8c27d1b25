using System.Runtime.CompilerServices;

namespace Eplb;

/// <summary>
/// A logical expert's standing in <c>replicate_experts</c>: its load per replica and its index in one 64-bit word
/// whose <em>unsigned minimum</em> is the reference's choice for the next slot.
/// </summary>
/// <remarks>
/// <para>
/// Layout: bits 63–32 hold the complement of the share's IEEE-754 bits (sign bit cleared first, as in
/// <see cref="SortKey"/>); bits 31–0 hold the expert's index. Non-negative float bits order like the values, so the
/// complement makes a larger share a smaller key, and on equal shares the lower index is the smaller key: the
/// unsigned minimum is <c>torch.max</c>'s first-index argmax of <c>weight / logcnt</c>.
/// </para>
/// <para>
/// Bit 63 is always set, so these words are compared unsigned only — by <see cref="TournamentTree"/> and
/// <see cref="ShareVector"/>, whose "never chosen" sentinel is <see cref="ulong.MaxValue"/> — and never mixed with
/// sort keys; <see cref="ToSortKey"/> converts.
/// </para>
/// </remarks>
internal static class ShareKey
{
    /// <summary>The key of <paramref name="expert"/> with load per replica <paramref name="share"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Create(float share, int expert) => SortKey.Create(share, expert).Bits ^ SortKey.LoadBits;

    /// <summary><c>keys[j] = Create(loads[j], j)</c> for a row of experts with one replica each.</summary>
    public static void CreateRow(ReadOnlySpan<float> loads, Span<ulong> keys) => SortKey.CreateRow(loads, keys, flipLoads: SortKey.LoadBits);

    /// <summary>The expert a key stands for.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ExpertOf(ulong key) => (int)(uint)key;

    /// <summary>
    /// The expert's share as the sort key of item <paramref name="index"/>: packing visits replicas by this load,
    /// <c>tokens_per_phy</c> in the reference, which replication has already computed with the same float division.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SortKey ToSortKey(ulong key, int index) => SortKey.FromLoadHalf(~key & SortKey.LoadBits, index);
}
