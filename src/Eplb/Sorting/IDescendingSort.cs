namespace Eplb;

/// <summary>
/// A descending sort whose order of equal loads is the one a given build of PyTorch gives
/// <c>torch.sort(row, descending=True)</c>: the order that decides every tie of <c>eplb.py</c>.
/// </summary>
/// <remarks>
/// The reference placer and <see cref="BalancedPacking"/> are generic over it, so each tie order is one struct in a
/// file of its own and the JIT compiles the placer once per order, with the sort inlined into it.
/// </remarks>
internal interface IDescendingSort
{
    /// <summary>Sorts <paramref name="keys"/> by load, largest first, breaking ties as the emulated sort does.</summary>
    static abstract void SortDescending(Span<SortKey> keys);
}
