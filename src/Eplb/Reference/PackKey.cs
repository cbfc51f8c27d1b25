using System.Runtime.CompilerServices;

namespace Eplb;

/// <summary>
/// A pack (a GPU, or a node) in <c>balanced_packing</c>'s greedy: its load and its index in one 64-bit word whose
/// <em>unsigned minimum</em> is the pack the reference chooses for the next item.
/// </summary>
/// <remarks>
/// Layout: bits 63–32 hold the pack's load (a float sum of non-negative item loads starting from +0, so never -0);
/// bits 31–0 hold the pack index. The unsigned minimum is the lightest pack, the lowest index on equal load — the
/// first minimum Python's <c>min</c> returns. A pack that is full is <see cref="Full"/>, so it is never chosen again.
/// </remarks>
internal static class PackKey
{
    /// <summary>The key of a pack that takes no more items.</summary>
    public const ulong Full = ulong.MaxValue;

    /// <summary>The key of <paramref name="pack"/> with load <paramref name="load"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Create(float load, int pack) => ((ulong)BitConverter.SingleToUInt32Bits(load) << 32) | (uint)pack;

    /// <summary>The key of a pack that holds one item so far: that item's sort key's load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Create(SortKey firstItem, int pack) => firstItem.LoadHalf | (uint)pack;

    /// <summary>The pack a key stands for.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PackOf(ulong key) => (int)(uint)key;

    /// <summary>The pack's load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadOf(ulong key) => BitConverter.UInt32BitsToSingle((uint)(key >> 32));
}
