using System.Buffers.Binary;
using System.Text;

namespace Eplb.Cli.Tests;

/// <summary>.npy files built byte by byte, as NumPy writes them, independently of the tool's own writer.</summary>
internal static class NpyBytes
{
    public static byte[] Create(float[,] values, string descr, bool fortranOrder = false, int version = 1)
    {
        int rows = values.GetLength(0), columns = values.GetLength(1);
        int size = descr[^1] - '0';
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortranOrder ? "True" : "False")}, 'shape': ({rows}, {columns}), }}";
        int prefix = version == 1 ? 10 : 12;
        int padded = (prefix + dict.Length + 1 + 63) / 64 * 64;
        string header = dict + new string(' ', padded - prefix - dict.Length - 1) + "\n";
        using var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0]);
        var length = new byte[version == 1 ? 2 : 4];
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
        }

        stream.Write(length);
        stream.Write(Encoding.Latin1.GetBytes(header));
        var cell = new byte[size];
        for (int i = 0; i < rows * columns; i++)
        {
            (int r, int c) = fortranOrder ? (i % rows, i / rows) : (i / columns, i % columns);
            float v = values[r, c];
            switch (descr)
            {
                case "<f4": BinaryPrimitives.WriteSingleLittleEndian(cell, v); break;
                case "<f8": BinaryPrimitives.WriteDoubleLittleEndian(cell, v); break;
                case "<i4": BinaryPrimitives.WriteInt32LittleEndian(cell, (int)v); break;
                case "<i8": BinaryPrimitives.WriteInt64LittleEndian(cell, (long)v); break;
                default: BinaryPrimitives.WriteSingleBigEndian(cell, v); break;
            }

            stream.Write(cell);
        }

        return stream.ToArray();
    }
}
