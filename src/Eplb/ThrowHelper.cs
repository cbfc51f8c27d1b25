using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eplb;

/// <summary>Argument checks: each names the parameter and the rule it breaks, before any work is done.</summary>
internal static class ThrowHelper
{
    public static void ThrowIfEmpty(int length, string paramName)
    {
        if (length == 0)
        {
            Throw(paramName, "must not be empty: a plan needs at least one layer and one logical expert.");
        }
    }

    public static void ThrowIfNotPositive(int value, string paramName)
    {
        if (value <= 0)
        {
            ThrowOutOfRange(paramName, value, $"{paramName} must be positive, but is {value}.");
        }
    }

    public static void ThrowIfLess(int value, int minimum, string paramName, string minimumName)
    {
        if (value < minimum)
        {
            ThrowOutOfRange(paramName, value, $"{paramName} ({value}) must be at least {minimumName} ({minimum}).");
        }
    }

    /// <summary>Throws unless <paramref name="divisor"/> divides <paramref name="value"/>; the parameter at fault is the divisor.</summary>
    public static void ThrowIfNotMultiple(int value, int divisor, string paramName, string valueName)
    {
        if (value % divisor != 0)
        {
            Throw(paramName, $"{paramName} ({divisor}) must divide {valueName} ({value}).");
        }
    }

    /// <summary>Throws unless <paramref name="value"/> is a multiple of <paramref name="divisor"/>; the parameter at fault is the value.</summary>
    public static void ThrowIfNotMultipleOf(int value, int divisor, string paramName, string divisorName)
    {
        if (value % divisor != 0)
        {
            Throw(paramName, $"{paramName} ({value}) must be a multiple of {divisorName} ({divisor}).");
        }
    }

    /// <summary>Throws when a row holds more items than <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</summary>
    public static void ThrowIfTooManyItems(int items, string paramName)
    {
        if (items > RebalanceLimits.MaxPhysicalExperts)
        {
            Throw(paramName, $"{paramName} holds {items} items per row, more than RebalanceLimits.MaxPhysicalExperts ({RebalanceLimits.MaxPhysicalExperts}).");
        }
    }

    /// <summary>Throws when a slot count exceeds <see cref="RebalanceLimits.MaxPhysicalExperts"/>.</summary>
    public static void ThrowIfTooManySlots(int slots, string paramName)
    {
        if (slots > RebalanceLimits.MaxPhysicalExperts)
        {
            ThrowOutOfRange(paramName, slots, $"{paramName} ({slots}) must be at most RebalanceLimits.MaxPhysicalExperts ({RebalanceLimits.MaxPhysicalExperts}).");
        }
    }

    /// <summary>Throws when <paramref name="destination"/> shares any memory with <paramref name="other"/>.</summary>
    public static void ThrowIfOverlapping<TDestination, TOther>(ReadOnlySpan<TDestination> destination, string destinationName, ReadOnlySpan<TOther> other, string otherName)
        where TDestination : unmanaged
        where TOther : unmanaged
    {
        if (Overlaps(
            ref Unsafe.As<TDestination, byte>(ref MemoryMarshal.GetReference(destination)), (nuint)destination.Length * (nuint)Unsafe.SizeOf<TDestination>(),
            ref Unsafe.As<TOther, byte>(ref MemoryMarshal.GetReference(other)), (nuint)other.Length * (nuint)Unsafe.SizeOf<TOther>()))
        {
            ThrowOverlap(destinationName, otherName);
        }
    }

    /// <summary>Throws when <paramref name="destination"/> shares any memory with the bytes at <paramref name="other"/>.</summary>
    public static void ThrowIfOverlapping<TDestination>(ReadOnlySpan<TDestination> destination, string destinationName, ref byte other, nuint otherBytes, string otherName)
        where TDestination : unmanaged
    {
        if (Overlaps(
            ref Unsafe.As<TDestination, byte>(ref MemoryMarshal.GetReference(destination)), (nuint)destination.Length * (nuint)Unsafe.SizeOf<TDestination>(),
            ref other, otherBytes))
        {
            ThrowOverlap(destinationName, otherName);
        }
    }

    // Byte ranges [a, a + aBytes) and [b, b + bBytes) share a byte; empty ranges share none.
    private static bool Overlaps(ref byte a, nuint aBytes, ref byte b, nuint bBytes)
    {
        if (aBytes == 0 || bBytes == 0)
        {
            return false;
        }

        nint offset = Unsafe.ByteOffset(ref a, ref b);
        return offset >= 0 ? (nuint)offset < aBytes : (nuint)(-offset) < bBytes;
    }

    [DoesNotReturn]
    private static void ThrowOverlap(string destinationName, string otherName) =>
        Throw(destinationName, $"{destinationName} must not overlap {otherName}: a destination that shares memory with an input or another destination would be overwritten while it is read.");

    public static void ThrowIfUndefined(TieOrder value, string paramName)
    {
        if (!Enum.IsDefined(value))
        {
            ThrowOutOfRange(paramName, value, $"{paramName} must be LibStdCxx, X86SimdSortAvx512 or X86SimdSortAvx2, but is {(int)value}.");
        }
    }

    public static void ThrowIfUndefined(RebalanceAlgorithm value, string paramName)
    {
        if (!Enum.IsDefined(value))
        {
            ThrowOutOfRange(paramName, value, $"{paramName} must be Reference or Refined, but is {(int)value}.");
        }
    }

    public static void ThrowIfProductTooLarge(long a, long b, string paramName)
    {
        if (a * b > Array.MaxLength)
        {
            Throw(paramName, $"the output would need {a} x {b} = {a * b} elements, more than an array can hold ({Array.MaxLength}).");
        }
    }

    public static void ThrowIfDestinationTooShort(int length, int required, string paramName)
    {
        if (length < required)
        {
            Throw(paramName, $"destination is too short: it holds {length} elements but {required} are needed.");
        }
    }

    /// <summary>Throws on the first NaN, infinite or negative load; the vectorised min/max pass keeps the common case cheap.</summary>
    public static void ThrowIfInvalidLoads(ReadOnlySpan<float> loads, int rowLength, string paramName)
    {
        // TensorPrimitives.Min/Max propagate NaN, so one pass each answers "all finite and >= 0".
        if (TensorPrimitives.Min(loads) >= 0f && float.IsFinite(TensorPrimitives.Max(loads)))
        {
            return;
        }

        for (int i = 0; i < loads.Length; i++)
        {
            float v = loads[i];
            string? problem = float.IsNaN(v) ? "NaN" : float.IsInfinity(v) ? "infinite" : v < 0 ? "negative" : null;
            if (problem is not null)
            {
                Throw(paramName, string.Create(CultureInfo.InvariantCulture,
                    $"loads must be finite and non-negative, but the load of layer {i / rowLength}, expert {i % rowLength} is {problem} ({v})."));
            }
        }
    }

    [DoesNotReturn]
    public static void Throw(string paramName, string message) => throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void ThrowOutOfRange(string paramName, object actualValue, string message) =>
        throw new ArgumentOutOfRangeException(paramName, actualValue, message);
}
