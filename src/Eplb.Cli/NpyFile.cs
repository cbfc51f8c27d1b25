using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Eplb.Cli;

/// <summary>NumPy's .npy format (version 1.0, C order), as <c>np.save</c> writes it, and .npz archives of them.</summary>
internal static class NpyFile
{
    /// <summary>A little-endian float32 array of <paramref name="shape"/>.</summary>
    public static byte[] Float32(IReadOnlyList<long> shape, IEnumerable<float> values) =>
        Create("<f4", 4, shape, values, (span, v) => BinaryPrimitives.WriteSingleLittleEndian(span, v));

    /// <summary>A little-endian int64 array of <paramref name="shape"/>: the dtype of PyTorch's index tensors.</summary>
    public static byte[] Int64(IReadOnlyList<long> shape, IEnumerable<int> values) =>
        Create("<i8", 8, shape, values, (span, v) => BinaryPrimitives.WriteInt64LittleEndian(span, v));

    /// <summary>An uncompressed .npz (what <c>np.savez</c> writes): each array a <c>name.npy</c> member.</summary>
    public static byte[] Archive(IReadOnlyList<(string Name, byte[] Npy)> arrays)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] npy) in arrays)
            {
                using Stream entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                entry.Write(npy);
            }
        }

        return stream.ToArray();
    }

    private static byte[] Create<T>(string descr, int size, IReadOnlyList<long> shape, IEnumerable<T> values, Action<Span<byte>, T> write)
    {
        string dims = shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int unpadded = 10 + dict.Length + 1;
        string header = dict + new string(' ', ((unpadded + 63) / 64 * 64) - unpadded) + "\n";
        long count = shape.Aggregate(1L, (a, d) => a * d);
        var bytes = new byte[10 + header.Length + (count * size)];
        ReadOnlySpan<byte> magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0];
        magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        int at = 10 + header.Length;
        foreach (T value in values)
        {
            write(bytes.AsSpan(at, size), value);
            at += size;
        }

        return bytes;
    }
}
