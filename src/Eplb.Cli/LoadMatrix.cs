namespace Eplb.Cli;

/// <summary>Loads as read from a file: row-major <c>[Layers, Experts]</c>.</summary>
internal sealed record LoadMatrix(float[] Values, int Layers, int Experts)
{
    public ReadOnlySpan<float> Layer(int layer) => Values.AsSpan(layer * Experts, Experts);
}
