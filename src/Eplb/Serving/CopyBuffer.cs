using System.Buffers;
using System.Runtime.CompilerServices;

namespace Eplb;

/// <summary>
/// Collects a migration's copies in pooled memory, so that the only array a migration allocates is its result, of
/// exactly its length: a DeepSeek-V3 migration lists over ten thousand copies, and a growing list would allocate
/// twice that on the large-object heap.
/// </summary>
internal sealed class CopyBuffer : IDisposable
{
    private ExpertCopy[] _items;
    private int _count;

    /// <param name="atMost">The most copies there can be (the slots in all): room for them, up to 64 Ki copies, is
    /// rented up front, so that a DeepSeek-V3 migration never grows the buffer.</param>
    public CopyBuffer(int atMost) => _items = ArrayPool<ExpertCopy>.Shared.Rent(Math.Clamp(atMost, 16, 1 << 16));

    public int Count => _count;

    public void Add(int layer, int expert, int gpu, int slot, int sourceGpu)
    {
        if (_count == _items.Length)
        {
            Grow();
        }

        _items[_count++] = new ExpertCopy(layer, expert, gpu, slot, sourceGpu);
    }

    public ExpertCopy[] ToArray()
    {
        ExpertCopy[] copies = GC.AllocateUninitializedArray<ExpertCopy>(_count);
        _items.AsSpan(0, _count).CopyTo(copies);
        return copies;
    }

    public void Dispose()
    {
        Return(_items);
        _items = [];
        _count = 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow()
    {
        ExpertCopy[] larger = ArrayPool<ExpertCopy>.Shared.Rent(2 * _items.Length);
        _items.AsSpan(0, _count).CopyTo(larger);
        Return(_items);
        _items = larger;
    }

    // What the pool keeps is bounded like every other scratch buffer (RebalanceLimits.MaxRetainedScratchBytes).
    private static void Return(ExpertCopy[] items)
    {
        if (Scratch.MayRetain((long)items.Length * Unsafe.SizeOf<ExpertCopy>()))
        {
            ArrayPool<ExpertCopy>.Shared.Return(items);
        }
    }
}
