namespace Eplb.Cli;

/// <summary>Loads as read from a file: row-major <c>[Layers, Experts]</c>.</summary>
internal sealed record LoadMatrix(float[] Values, int Layers, int Experts)
{
    public ReadOnlySpan<float> Layer(int layer) => Values.AsSpan(layer * Experts, Experts);

    public static LoadMatrix From(float[,] weight)
    {
        var values = new float[weight.Length];
        Buffer.BlockCopy(weight, 0, values, 0, values.Length * sizeof(float));
        return new LoadMatrix(values, weight.GetLength(0), weight.GetLength(1));
    }
}
