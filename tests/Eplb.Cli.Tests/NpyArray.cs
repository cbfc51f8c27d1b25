using FluentAssertions;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Eplb.Cli.Tests;

/// <summary>A .npy read back the way NumPy reads it: the header's dtype and shape, then the values (integers here).</summary>
internal sealed record NpyArray(string Descr, long[] Shape, long[] Values)
{
    public static NpyArray Parse(byte[] bytes)
    {
        Encoding.Latin1.GetString(bytes, 0, 6).Should().Be("\u0093NUMPY");
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.Latin1.GetString(bytes, 10, headerLength);
        ((10 + headerLength) % 64).Should().Be(0, "NumPy aligns the data to 64 bytes");
        string descr = Regex.Match(header, "'descr': '([^']+)'").Groups[1].Value;
        long[] shape = Regex.Match(header, @"'shape': \(([^)]*)\)").Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        long count = shape.Aggregate(1L, (a, d) => a * d);
        long[] values = Enumerable.Range(0, (int)count).Select(i => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(10 + headerLength + (8 * i)))).ToArray();
        return new NpyArray(descr, shape, values);
    }
}
