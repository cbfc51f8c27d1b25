using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics.Tensors;

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
