using System.Buffers;
using System.Runtime.CompilerServices;

namespace Eplb;

/// <summary>
/// Scratch arrays for one call: from <see cref="ArrayPool{T}.Shared"/> when small, so that steady-state calls
/// allocate nothing; plain arrays when larger than <see cref="RebalanceLimits.MaxRetainedScratchBytes"/>, so that the
/// pool never keeps a huge call's memory alive.
/// </summary>
internal static class Scratch
{
    /// <summary>
    /// Makes <paramref name="array"/> — scratch an object keeps from one layer or call to the next — hold at least
    /// <paramref name="length"/> elements: a new, zeroed array if it is shorter, else the same one, contents kept.
    /// </summary>
    public static void Grow<T>(ref T[] array, int length)
    {
        if (array.Length < length)
        {
            array = new T[length];
        }
    }

    /// <summary>An array of at least <paramref name="length"/> elements, contents undefined.</summary>
    public static T[] Rent<T>(int length)
        where T : unmanaged =>
        IsPooled<T>(length) ? ArrayPool<T>.Shared.Rent(length) : GC.AllocateUninitializedArray<T>(length);

    /// <summary>Gives back an array from <see cref="Rent{T}"/>: to the pool if it came from there.</summary>
    public static void Return<T>(T[]? array)
        where T : unmanaged
    {
        // The pool hands out power-of-two lengths up to the bound, and the bound is a power of two for every element
        // size used here, so pooled and unpooled arrays are told apart by length alone.
        if (array is not null && IsPooled<T>(array.Length))
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }

    /// <summary>Whether the scratch of <paramref name="bytes"/> bytes may be kept for later calls.</summary>
    public static bool MayRetain(long bytes) => bytes <= RebalanceLimits.MaxRetainedScratchBytes;

    private static bool IsPooled<T>(int length)
        where T : unmanaged => MayRetain((long)length * Unsafe.SizeOf<T>());
}
