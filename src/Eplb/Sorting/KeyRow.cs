using System.Runtime.CompilerServices;

namespace Eplb;

/// <summary>Unchecked access to a row of sort keys by a reference to its first, for the sorts' inner loops.</summary>
internal static class KeyRow
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref ulong At(ref ulong row, int i) => ref Unsafe.Add(ref row, (nint)(uint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Swap(ref ulong row, int i, int j)
    {
        ref ulong a = ref At(ref row, i);
        ref ulong b = ref At(ref row, j);
        (a, b) = (b, a);
    }
}
