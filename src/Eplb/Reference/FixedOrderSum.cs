using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// A float sum in one order on every machine: <c>tokens_per_group</c>, which decides how groups are packed onto
/// nodes. <see cref="System.Numerics.Tensors.TensorPrimitives.Sum(ReadOnlySpan{float})"/> follows the vector width
/// of the host, and real-valued loads (smoothed ones, say) then round differently with and without AVX-512: a plan
/// must not depend on the instruction set.
/// </summary>
/// <remarks>
/// The order: eight partial sums, value <c>i</c> added to partial <c>i mod 8</c> in index order, then halved pairwise
/// (<c>p[j] + p[j + 4]</c>, then <c>+ p[j + 2]</c>, then <c>+ p[j + 1]</c>). With one <see cref="Vector256{T}"/> of
/// partials this is a vector add per eight values; without one, the same adds in the same order one by one. Integer
/// token counts whose sums stay below 2^24 are exact in any order, so these sums equal PyTorch's there.
/// </remarks>
internal static class FixedOrderSum
{
    private const int Partials = 8;

    public static float Sum(ReadOnlySpan<float> values)
    {
        int whole = values.Length - (values.Length % Partials);
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> partials = Vector256<float>.Zero;
            for (int i = 0; i < whole; i += Partials)
            {
                partials += Vector256.Create(values.Slice(i, Partials));
            }

            if (whole < values.Length)
            {
                // Adding +0 to a partial leaves it as it is, so the missing lanes of the tail are zeros.
                Span<float> tail = stackalloc float[Partials];
                tail.Clear();
                values.Slice(whole).CopyTo(tail);
                partials += Vector256.Create<float>(tail);
            }

            Vector128<float> fours = partials.GetLower() + partials.GetUpper();
            float p0 = fours.GetElement(0) + fours.GetElement(2), p1 = fours.GetElement(1) + fours.GetElement(3);
            return p0 + p1;
        }

        Span<float> sums = stackalloc float[Partials];
        sums.Clear();
        for (int i = 0; i < values.Length; i++)
        {
            sums[i % Partials] += values[i];
        }

        float q0 = sums[0] + sums[4], q1 = sums[1] + sums[5], q2 = sums[2] + sums[6], q3 = sums[3] + sums[7];
        return (q0 + q2) + (q1 + q3);
    }
}
