using System.Numerics.Tensors;

namespace Eplb.Cli;

/// <summary>A plan's tensors as flat row-major arrays, as placements and .npy files hold them.</summary>
internal static class Flattening
{
    public static int[] Flat(ReadOnlyTensorSpan<int> tensor)
    {
        var values = new int[tensor.FlattenedLength];
        tensor.FlattenTo(values);
        return values;
    }
}
