using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eplb;

/// <summary>Views a rectangular array's row-major storage as one span, without copying.</summary>
internal static class MatrixMarshal
{
    public static Span<T> AsSpan<T>(T[,] array) =>
        MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(array)), array.Length);
}
