using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Eplb;

/// <summary>
/// The GPUs of one node holding an expert — bit <c>t</c> of a word for the node's GPU <c>t</c>, up to 16 — spread
/// over the lanes of a vector, one in the lane of each holder: added up over a fresh GPU's distinct experts, lane
/// <c>t</c> counts the experts that old GPU <c>t</c> holds, a row of the overlap matrix at once.
/// </summary>
internal static class HeldCounts
{
    /// <summary>One in lane <c>t</c> when bit <c>t</c> of <paramref name="holders"/> is set, zero elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<int> Of(uint holders)
    {
        Vector512<int> bit = Vector512.Create(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768);
        return Vector512.Equals(Vector512.Create((int)holders) & bit, bit) & Vector512<int>.One;
    }
}
