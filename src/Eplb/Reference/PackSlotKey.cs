using System.Runtime.CompilerServices;

namespace Eplb;

/// <summary>
/// A pack as <see cref="PackVector"/> keeps it in a vector lane: its load, the slot of its first item and how many
/// items it holds, in one 64-bit word whose unsigned order is <c>balanced_packing</c>'s choice.
/// </summary>
/// <remarks>
/// Layout: bits 63–32 hold the pack's load (non-negative float bits), bits 31–8 the pack's first slot
/// (<c>pack * itemsPerPack</c>), bits 7–0 its item count. Unsigned order: lightest first, then the lowest first slot,
/// which is the lowest pack; the count never decides, since no two packs share a first slot. The next item's slot
/// is the sum of the two low fields. A full pack's word is <see cref="PackKey.Full"/>, which sorts after every other.
/// </remarks>
internal static class PackSlotKey
{
    /// <summary>The count field's width.</summary>
    public const int CountBits = 8;

    /// <summary>The count field.</summary>
    public const ulong CountMask = (1UL << CountBits) - 1;

    /// <summary>The pack and count fields together: the low half.</summary>
    public const ulong SlotFields = 0xFFFF_FFFFUL;

    /// <summary>The most items a pack may hold: the count field's range.</summary>
    public const int MaxCount = (int)CountMask;

    /// <summary>The largest first slot the field holds.</summary>
    public const int MaxFirstSlot = (1 << (32 - CountBits)) - 1;

    /// <summary>The word of a pack with load half <paramref name="loadHalf"/> (as <see cref="SortKey.LoadHalf"/>), first slot and count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Create(ulong loadHalf, int firstSlot, int count) =>
        loadHalf | ((ulong)(uint)firstSlot << CountBits) | (uint)count;

    /// <summary>The slot the pack's next item takes: its first slot plus its count, from the word's low half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NextSlot(uint slotFields) => (int)((slotFields >> CountBits) + (slotFields & (uint)CountMask));
}
