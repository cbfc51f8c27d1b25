using System.Buffers;

namespace Eplb;

/// <summary>
/// Collects a migration's copies in pooled memory, so that the only array a migration allocates is its result, of
/// exactly its length: a DeepSeek-V3 migration lists over ten thousand copies, and a growing list would allocate
/// twice that on the large-object heap.
/// </summary>
internal sealed class CopyBuffer : IDisposable
{
    private ExpertCopy[] _items = ArrayPool<ExpertCopy>.Shared.Rent(1024);
    private int _count;

    public int Count => _count;

    public void Add(in ExpertCopy copy)
    {
        if (_count == _items.Length)
        {
            ExpertCopy[] larger = ArrayPool<ExpertCopy>.Shared.Rent(2 * _items.Length);
            _items.AsSpan(0, _count).CopyTo(larger);
            ArrayPool<ExpertCopy>.Shared.Return(_items);
            _items = larger;
        }

        _items[_count++] = copy;
    }

    public ExpertCopy[] ToArray()
    {
        ExpertCopy[] copies = GC.AllocateUninitializedArray<ExpertCopy>(_count);
        _items.AsSpan(0, _count).CopyTo(copies);
        return copies;
    }

    public void Dispose()
    {
        ArrayPool<ExpertCopy>.Shared.Return(_items);
        _items = [];
        _count = 0;
    }
}
