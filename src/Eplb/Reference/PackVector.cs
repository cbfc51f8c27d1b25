using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Eplb;

/// <summary>
/// Packing by the packs of one row, at most eight per AVX-512 vector (up to eight vectors), keys kept in ascending
/// order, so the lightest pack with room is always lane 0 and placing an item is a handful of vector instructions
/// with no branch.
/// </summary>
/// <remarks>
/// <para>
/// Each lane holds one pack as a <see cref="PackSlotKey"/>, whose unsigned order is the reference's choice, lightest
/// first and the lowest pack on equal load; a full pack's key is <see cref="PackKey.Full"/>, so it sinks to the end
/// and is never chosen again.
/// </para>
/// <para>
/// Placing an item takes lane 0, adds the item's weight to its load (one float add, as the reference does) and
/// counts the item, then puts the new key back in order: with <c>K</c> the sorted keys, <c>K'</c> them shifted
/// down a lane (lane 0 dropped) and <c>k</c> the new key, <c>min(max(K, k), K')</c> is the sorted merge, lane
/// for lane. Each item is a short chain of dependent vector instructions, where a tree or heap waits on loads
/// and branches; packing each node's GPUs (eight per node is typical) is where the hierarchical policy spends
/// most of its time.
/// </para>
/// </remarks>
internal static class PackVector
{
    /// <summary>The most packs one vector holds; up to <see cref="MaxPacks"/>, eight vectors act as one.</summary>
    public const int PacksPerVector = 8;

    /// <summary>The most packs this path takes (eight vectors).</summary>
    public const int MaxPacks = 8 * PacksPerVector;

    /// <summary>The most items a pack may take: the count field's range.</summary>
    public const int MaxPerPack = PackSlotKey.MaxCount;

    /// <summary>True when this machine and shape can pack with vectors of keys.</summary>
    public static bool IsSupported(int numPacks, int perPack) => Avx512F.IsSupported && numPacks <= MaxPacks && perPack <= MaxPerPack;

    /// <summary>
    /// Places the items of a row that <c>BalancedPacking.PlaceFirstRound</c> left: <paramref name="order"/> is
    /// the sorted row of keys (weight bits, item), and its first <paramref name="placed"/> items sit alone in
    /// packs 0, 1, ...
    /// </summary>
    /// <remarks>A method of its own, so that the keys stay in a register through the loop.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void PlaceRest(ReadOnlySpan<SortKey> order, int placed, int numPacks, Span<int> itemSlot)
    {
        if (numPacks > PacksPerVector)
        {
            PlaceRestInEightVectors(order, placed, numPacks, itemSlot);
            return;
        }

        int perPack = order.Length / numPacks;
        Vector512<ulong> keys = InitialKeys(order, placed, numPacks, perPack);
        Vector128<ulong> lastCount = LastCount(perPack);
        for (int i = placed; i < order.Length; i++)
        {
            keys = Place(keys, lastCount, order[i], itemSlot);
        }
    }

    /// <summary>
    /// <see cref="PlaceRest"/> for two rows of the same shape, one item of each in turn: each row is a serial chain
    /// of dependent instructions, and interleaving gives the processor two to overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void PlaceRestOfPair(
        ReadOnlySpan<SortKey> orderA, int placedA, Span<int> itemSlotA,
        ReadOnlySpan<SortKey> orderB, int placedB, Span<int> itemSlotB, int numPacks)
    {
        if (numPacks > PacksPerVector)
        {
            PlaceRestInEightVectors(orderA, placedA, numPacks, itemSlotA);
            PlaceRestInEightVectors(orderB, placedB, numPacks, itemSlotB);
            return;
        }

        int perPack = orderA.Length / numPacks;
        Vector512<ulong> keysA = InitialKeys(orderA, placedA, numPacks, perPack);
        Vector512<ulong> keysB = InitialKeys(orderB, placedB, numPacks, perPack);
        Vector128<ulong> lastCount = LastCount(perPack);
        for (int i = Math.Min(placedA, placedB); i < orderA.Length; i++)
        {
            if (i >= placedA)
            {
                keysA = Place(keysA, lastCount, orderA[i], itemSlotA);
            }

            if (i >= placedB)
            {
                keysB = Place(keysB, lastCount, orderB[i], itemSlotB);
            }
        }
    }

    /// <summary>
    /// <see cref="PlaceRest"/> for 9 to 64 packs: eight vectors in a row hold the keys in ascending order, lane 7
    /// of one vector followed by lane 0 of the next. Inserting and removing shift lanes across the vector
    /// boundaries (<c>valignq</c> of neighbours); the chain from one item to the next is as short as with one
    /// vector, only wider. (AVX-512 has 32 vector registers, so all eight stay in registers.)
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PlaceRestInEightVectors(ReadOnlySpan<SortKey> order, int placed, int numPacks, Span<int> itemSlot)
    {
        int perPack = order.Length / numPacks;
        Vector512<ulong> none = Vector512<ulong>.AllBitsSet, zero = Vector512<ulong>.Zero;
        Vector512<ulong> k0 = none, k1 = none, k2 = none, k3 = none, k4 = none, k5 = none, k6 = none, k7 = none;
        for (int p = 0; p < numPacks; p++)
        {
            Vector512<ulong> key = Vector512.Create(InitialKey(order, placed, perPack, p));
            Vector512<ulong> up0 = Avx512F.AlignRight64(k0, zero, 7), up1 = Avx512F.AlignRight64(k1, k0, 7);
            Vector512<ulong> up2 = Avx512F.AlignRight64(k2, k1, 7), up3 = Avx512F.AlignRight64(k3, k2, 7);
            Vector512<ulong> up4 = Avx512F.AlignRight64(k4, k3, 7), up5 = Avx512F.AlignRight64(k5, k4, 7);
            Vector512<ulong> up6 = Avx512F.AlignRight64(k6, k5, 7), up7 = Avx512F.AlignRight64(k7, k6, 7);
            k0 = Vector512.Max(Vector512.Min(k0, key), up0);
            k1 = Vector512.Max(Vector512.Min(k1, key), up1);
            k2 = Vector512.Max(Vector512.Min(k2, key), up2);
            k3 = Vector512.Max(Vector512.Min(k3, key), up3);
            k4 = Vector512.Max(Vector512.Min(k4, key), up4);
            k5 = Vector512.Max(Vector512.Min(k5, key), up5);
            k6 = Vector512.Max(Vector512.Min(k6, key), up6);
            k7 = Vector512.Max(Vector512.Min(k7, key), up7);
        }

        Vector128<ulong> lastCount = LastCount(perPack);
        for (int i = placed; i < order.Length; i++)
        {
            Vector512<ulong> key = NextKey(k0, lastCount, order[i], itemSlot);
            Vector512<ulong> rest0 = Avx512F.AlignRight64(k1, k0, 1), rest1 = Avx512F.AlignRight64(k2, k1, 1);
            Vector512<ulong> rest2 = Avx512F.AlignRight64(k3, k2, 1), rest3 = Avx512F.AlignRight64(k4, k3, 1);
            Vector512<ulong> rest4 = Avx512F.AlignRight64(k5, k4, 1), rest5 = Avx512F.AlignRight64(k6, k5, 1);
            Vector512<ulong> rest6 = Avx512F.AlignRight64(k7, k6, 1), rest7 = Avx512F.AlignRight64(none, k7, 1);
            k0 = Vector512.Min(Vector512.Max(k0, key), rest0);
            k1 = Vector512.Min(Vector512.Max(k1, key), rest1);
            k2 = Vector512.Min(Vector512.Max(k2, key), rest2);
            k3 = Vector512.Min(Vector512.Max(k3, key), rest3);
            k4 = Vector512.Min(Vector512.Max(k4, key), rest4);
            k5 = Vector512.Min(Vector512.Max(k5, key), rest5);
            k6 = Vector512.Min(Vector512.Max(k6, key), rest6);
            k7 = Vector512.Min(Vector512.Max(k7, key), rest7);
        }
    }

    /// <summary>
    /// The sorted keys of a row after <c>BalancedPacking.PlaceFirstRound</c>: <paramref name="order"/> is the sorted row,
    /// and its first <paramref name="placed"/> items sit alone in packs 0, 1, ...; the other packs are empty.
    /// </summary>
    /// <remarks>
    /// Each key is inserted in order without branches: with <c>K</c> sorted and <c>K'</c> it shifted up a lane,
    /// <c>max(min(K, k), K')</c> is <c>K</c> with <c>k</c> in its place. Inlined, so that the result is not
    /// returned through memory and the caller's loop keeps it in a register.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> InitialKeys(ReadOnlySpan<SortKey> order, int placed, int numPacks, int perPack)
    {
        Vector512<ulong> keys = Vector512<ulong>.AllBitsSet;
        for (int p = 0; p < numPacks; p++)
        {
            Vector512<ulong> key = Vector512.Create(InitialKey(order, placed, perPack, p));
            keys = Vector512.Max(Vector512.Min(keys, key), Avx512F.AlignRight64(keys, Vector512<ulong>.Zero, 7));
        }

        return keys;
    }

    // Pack p's key after the first round: a placed pack weighs its one item (that key's value half, -0 already
    // folded to +0) and counts one; an empty pack weighs nothing.
    private static ulong InitialKey(ReadOnlySpan<SortKey> order, int placed, int perPack, int p) =>
        p < placed ? PackSlotKey.Create(order[p].LoadHalf, p * perPack, 1) : PackSlotKey.Create(0, p * perPack, 0);

    // The count a pack's key shows when it takes its last item, in the form Place compares it.
    private static Vector128<ulong> LastCount(int perPack) => Vector128.Create((ulong)(uint)(perPack - 1));

    /// <summary>
    /// Places the item of sort key <paramref name="itemKey"/> (weight bits, item) on the lightest pack with room,
    /// writes its slot, and returns the keys after it. Keys are passed by value so that they stay in a register across a loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Place(Vector512<ulong> keys, Vector128<ulong> lastCount, SortKey itemKey, Span<int> itemSlot)
    {
        Vector512<ulong> rest = Avx512F.AlignRight64(Vector512<ulong>.AllBitsSet, keys, 1);
        return Vector512.Min(Vector512.Max(keys, NextKey(keys, lastCount, itemKey, itemSlot)), rest);
    }

    /// <summary>
    /// Writes the slot of the item of sort key <paramref name="itemKey"/> on the lightest pack (lane 0 of
    /// <paramref name="keys"/>) and returns that pack's key after it, broadcast.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> NextKey(Vector512<ulong> keys, Vector128<ulong> lastCount, SortKey itemKey, Span<int> itemSlot)
    {
        itemSlot[itemKey.Index] = PackSlotKey.NextSlot((uint)keys.ToScalar());

        // The new key, in lane 0: (load + weight) bits above, the same pack and one more item below, or all ones
        // when this item fills the pack (decided from the old count, beside the add). Lane 0 of the shifted
        // vector is the load as a float; what the add leaves in other lanes is shifted out.
        Vector128<ulong> lowest = Avx512F.ExtractVector128(keys, 0);
        Vector128<ulong> fills = Vector128.Equals(lowest & Vector128.Create(PackSlotKey.CountMask), lastCount);
        Vector128<ulong> packAndCount = (lowest & Vector128.Create(PackSlotKey.SlotFields)) + Vector128<ulong>.One;
        Vector128<float> weight = Vector128.ShiftRightLogical(Vector128.CreateScalarUnsafe(itemKey.Bits), 32).AsSingle();
        Vector128<float> load = Vector128.ShiftRightLogical(lowest, 32).AsSingle() + weight;
        Vector128<ulong> key = Vector128.ShiftLeft(load.AsUInt64(), 32) | packAndCount | fills;
        return Avx512F.BroadcastScalarToVector512(key);
    }
}
