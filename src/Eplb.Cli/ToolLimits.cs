using System.Globalization;

namespace Eplb.Cli;

/// <summary>
/// The largest plan the tool writes out. The library plans up to 2^24 slots per layer; the tool renders every slot
/// as text and statistics, so it stops at 2^24 slots in all (layers × replicas), checked before anything is read or
/// planned. Larger plans belong in a program that calls the library.
/// </summary>
internal static class ToolLimits
{
    public const long MaxSlots = 1L << 24;

    public static void ThrowIfTooLarge(int replicas, int layers)
    {
        long slots = (long)replicas * layers;
        if (slots > MaxSlots)
        {
            string what = layers == 1 ? $"--replicas {replicas}" : $"{layers} layers x --replicas {replicas} = {slots.ToString("N0", CultureInfo.InvariantCulture)} slots";
            throw CliException.Usage($"{what} is more than the tool writes out ({MaxSlots.ToString("N0", CultureInfo.InvariantCulture)} slots in all); call the library for larger plans");
        }
    }
}
