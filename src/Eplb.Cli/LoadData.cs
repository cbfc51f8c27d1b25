namespace Eplb.Cli;

/// <summary>
/// Loads as read from a file: one <c>[layers, experts]</c> window, or a series of them (what <c>eplb generate
/// --steps</c> writes: a 3-D array, <c>{"steps": …}</c>, or CSV rows led by step and layer).
/// </summary>
internal sealed record LoadData(string Source, IReadOnlyList<LoadMatrix> Steps, bool IsSeries)
{
    /// <summary>
    /// The window to plan: the file's only one, or step <paramref name="step"/> of a series. A series without a step is
    /// refused, never planned as one matrix.
    /// </summary>
    public LoadMatrix Pick(int? step)
    {
        if (step is int s)
        {
            if (!IsSeries)
            {
                throw CliException.Usage($"--step {s}: {Source} holds one window of loads, not a series");
            }

            if (s < 0 || s >= Steps.Count)
            {
                throw CliException.Usage($"--step {s}: {Source} holds steps 0 to {Steps.Count - 1}");
            }

            return Steps[s];
        }

        if (IsSeries && Steps.Count > 1)
        {
            throw CliException.Usage(
                $"{Source} holds a series of {Steps.Count} steps of {Steps[0].Layers} layers x {Steps[0].Experts} experts (as eplb generate --steps writes); " +
                $"pick one with --step 0 to {Steps.Count - 1}");
        }

        return Steps[0];
    }
}
