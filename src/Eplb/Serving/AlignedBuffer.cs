using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eplb;

/// <summary>
/// Scratch whose start is on a 64-byte boundary, for rows of 16 integers that are read and added to as whole 512-bit
/// vectors, many times a layer: a vector that straddles two cache lines costs two accesses, and relabelling's speed
/// would depend on where a run's buffers happened to fall.
/// </summary>
/// <remarks>The array is pinned (allocated on the pinned heap) so that the alignment, found once, holds for good.</remarks>
internal sealed class AlignedBuffer<T>
    where T : unmanaged
{
    private const int Alignment = 64;
    private T[] _array = [];
    private int _offset;

    /// <summary><paramref name="length"/> elements starting on a 64-byte boundary, zero when first made, then as left.</summary>
    public unsafe Span<T> Get(int length)
    {
        int spare = Alignment / Unsafe.SizeOf<T>();
        if (_array.Length < length + spare)
        {
            _array = GC.AllocateArray<T>(length + spare, pinned: true);
            nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
            _offset = (int)((Alignment - (address % Alignment)) % Alignment) / Unsafe.SizeOf<T>();
        }

        return _array.AsSpan(_offset, length);
    }
}
