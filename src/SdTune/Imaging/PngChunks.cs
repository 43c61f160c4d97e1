using System.Buffers.Binary;
using SdTune.Checkpoints.Pickle;

namespace SdTune.Imaging;

/// <summary>One chunk of a PNG file: its four-letter type and the data between length and CRC.</summary>
internal readonly record struct PngChunk(string Type, int Offset, int Length);

/// <summary>Splits PNG files into chunks and builds chunks with their CRC-32 (ISO 3309, as zip uses).</summary>
internal static class PngChunks
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Lists the chunks of a PNG file, checking the signature, bounds and every CRC.</summary>
    /// <param name="png">The whole file.</param>
    /// <param name="name">Names the file in error messages.</param>
    public static List<PngChunk> Parse(ReadOnlySpan<byte> png, string name)
    {
        if (png.Length < Signature.Length || !png[..Signature.Length].SequenceEqual(Signature))
        {
            throw new InvalidDataException($"'{name}' is not a PNG file (the 8-byte PNG signature is missing).");
        }

        var chunks = new List<PngChunk>();
        var position = Signature.Length;
        while (true)
        {
            if (position + 12 > png.Length)
            {
                throw new InvalidDataException($"'{name}' is truncated: a chunk header at byte {position} runs past the end of the file (no IEND chunk).");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(png[position..]);
            var type = System.Text.Encoding.ASCII.GetString(png.Slice(position + 4, 4));
            if (length > int.MaxValue || position + 12L + length > png.Length)
            {
                throw new InvalidDataException($"'{name}' is truncated: chunk '{type}' at byte {position} declares {length} bytes, more than the file holds.");
            }

            var dataOffset = position + 8;
            var stored = BinaryPrimitives.ReadUInt32BigEndian(png[(dataOffset + (int)length)..]);
            var computed = Crc32.Append(0, png.Slice(position + 4, 4 + (int)length));
            if (stored != computed)
            {
                throw new InvalidDataException($"'{name}' is corrupt: chunk '{type}' at byte {position} has CRC {stored:x8}, its content gives {computed:x8}.");
            }

            chunks.Add(new PngChunk(type, dataOffset, (int)length));
            position = dataOffset + (int)length + 4;
            if (type == "IEND")
            {
                return chunks;
            }
        }
    }

    /// <summary>Writes one chunk: big-endian length, type, data, CRC over type and data.</summary>
    public static void Write(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, header[4..]);
        var crc = Crc32.Append(0, header[4..]);
        crc = Crc32.Append(crc, data);
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(trailer, crc);
        output.Write(header);
        output.Write(data);
        output.Write(trailer);
    }
}
