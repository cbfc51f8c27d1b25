using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eplb;

/// <summary>Reads a <c>[layers, experts]</c> tensor span of loads as one row-major span.</summary>
internal static class LoadRows
{
    /// <summary>
    /// The tensor's layers and experts, checked: two dimensions, not empty, and small enough for an array.
    /// </summary>
    public static (int Layers, int Experts) ShapeOf(in ReadOnlyTensorSpan<float> weight)
    {
        if (weight.Rank != 2)
        {
            ThrowHelper.Throw(nameof(weight), $"must be two-dimensional [layers, logicalExperts], but its rank is {weight.Rank}.");
        }

        nint layers = weight.Lengths[0], experts = weight.Lengths[1];
        ThrowHelper.ThrowIfEmpty((int)Math.Min(layers * experts, 1), nameof(weight));
        ThrowHelper.ThrowIfProductTooLarge(layers, experts, nameof(weight));
        return ((int)layers, (int)experts);
    }

    /// <summary>
    /// The tensor's rows as one row-major span: a view of its memory when it is laid out densely, else a copy into
    /// <paramref name="copy"/>, which the caller gives back with <see cref="Scratch.Return{T}"/>.
    /// </summary>
    public static ReadOnlySpan<float> Read(in ReadOnlyTensorSpan<float> weight, ref float[]? copy)
    {
        nint layers = weight.Lengths[0], experts = weight.Lengths[1];
        int length = (int)(layers * experts);
        ReadOnlySpan<nint> strides = weight.Strides;
        bool rowMajor = (strides[1] == 1 || experts == 1) && (strides[0] == experts || layers == 1);
        if (rowMajor)
        {
            return MemoryMarshal.CreateReadOnlySpan(in weight.GetPinnableReference(), length);
        }

        copy = Scratch.Rent<float>(length);
        weight.FlattenTo(copy);
        return copy.AsSpan(0, length);
    }

    /// <summary>Throws when <paramref name="destination"/> shares memory with any element the tensor may read.</summary>
    public static void ThrowIfOverlapping(ReadOnlySpan<int> destination, string destinationName, in ReadOnlyTensorSpan<float> weight)
    {
        // The tensor reads from its first element to its last, 1 + sum((length - 1) * stride) elements.
        nuint extent = 1;
        for (int d = 0; d < weight.Rank; d++)
        {
            extent += (nuint)(weight.Lengths[d] - 1) * (nuint)weight.Strides[d];
        }

        ref byte first = ref Unsafe.As<float, byte>(ref Unsafe.AsRef(in weight.GetPinnableReference()));
        ThrowHelper.ThrowIfOverlapping(destination, destinationName, ref first, extent * sizeof(float), nameof(weight));
    }
}
