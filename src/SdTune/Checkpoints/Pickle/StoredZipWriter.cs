using System.Buffers.Binary;
using System.Text;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// Writes an uncompressed zip the way torch's archive writer does: every entry's data starts on a 64-byte
/// boundary (padded with an extra field), so readers can map storages straight from the file. Zip64 records are
/// written whenever a size or offset does not fit 32 bits.
/// </summary>
internal sealed class StoredZipWriter(Stream stream, bool forceZip64 = false)
{
    private const int Alignment = 64;
    private const uint Max32 = uint.MaxValue;
    private const ushort PaddingExtraId = 0x4246; // "FB", as torch names its padding field
    private const ushort DosDate = (0 << 9) | (1 << 5) | 1; // 1980-01-01: fixed for reproducible files

    private readonly List<(string Name, long Offset, long Length, uint Crc)> _entries = [];

    /// <summary>Writes one entry whose bytes and CRC are known up front; <paramref name="writeData"/> writes exactly <paramref name="length"/> bytes.</summary>
    public void AddEntry(string name, long length, uint crc, Action<Stream> writeData)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var offset = stream.Position;
        var zip64 = forceZip64 || length >= Max32;
        var zip64ExtraLength = zip64 ? 20 : 0;
        var unpadded = offset + 30 + nameBytes.Length + zip64ExtraLength;
        var padding = (int)((Alignment - (unpadded % Alignment)) % Alignment);
        if (padding is > 0 and < 4)
        {
            padding += Alignment; // an extra field needs at least its 4-byte header
        }

        Span<byte> header = stackalloc byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], zip64 ? (ushort)45 : (ushort)20);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], 0); // stored
        BinaryPrimitives.WriteUInt16LittleEndian(header[10..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(header[12..], DosDate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[14..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[18..], zip64 ? Max32 : (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[22..], zip64 ? Max32 : (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[28..], (ushort)(zip64ExtraLength + padding));
        stream.Write(header);
        stream.Write(nameBytes);
        if (zip64)
        {
            Span<byte> extra = stackalloc byte[20];
            BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 16);
            BinaryPrimitives.WriteInt64LittleEndian(extra[4..], length);
            BinaryPrimitives.WriteInt64LittleEndian(extra[12..], length);
            stream.Write(extra);
        }

        if (padding > 0)
        {
            Span<byte> pad = stackalloc byte[padding];
            pad.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(pad, PaddingExtraId);
            BinaryPrimitives.WriteUInt16LittleEndian(pad[2..], (ushort)(padding - 4));
            stream.Write(pad);
        }

        var dataStart = stream.Position;
        writeData(stream);
        if (stream.Position - dataStart != length)
        {
            throw new InvalidOperationException($"zip entry '{name}' was declared {length} bytes but {stream.Position - dataStart} were written");
        }

        _entries.Add((name, offset, length, crc));
    }

    /// <summary>Writes a small entry from memory.</summary>
    public void AddEntry(string name, byte[] data) => AddEntry(name, data.Length, Crc32.Append(0, data), s => s.Write(data));

    /// <summary>Writes the central directory and end records.</summary>
    public void Finish()
    {
        var directoryStart = stream.Position;
        var anyZip64 = forceZip64;
        Span<byte> header = stackalloc byte[46];
        Span<byte> extra = stackalloc byte[28];
        foreach (var (name, offset, length, crc) in _entries)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            var zip64 = forceZip64 || length >= Max32 || offset >= Max32;
            anyZip64 |= zip64;
            BinaryPrimitives.WriteUInt32LittleEndian(header, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], zip64 ? (ushort)45 : (ushort)20);
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], zip64 ? (ushort)45 : (ushort)20);
            BinaryPrimitives.WriteUInt16LittleEndian(header[8..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(header[10..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(header[12..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(header[14..], DosDate);
            BinaryPrimitives.WriteUInt32LittleEndian(header[16..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(header[20..], zip64 ? Max32 : (uint)length);
            BinaryPrimitives.WriteUInt32LittleEndian(header[24..], zip64 ? Max32 : (uint)length);
            BinaryPrimitives.WriteUInt16LittleEndian(header[28..], (ushort)nameBytes.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(header[30..], zip64 ? (ushort)28 : (ushort)0);
            header[32..42].Clear(); // comment length, disk, internal and external attributes
            BinaryPrimitives.WriteUInt32LittleEndian(header[42..], zip64 ? Max32 : (uint)offset);
            stream.Write(header);
            stream.Write(nameBytes);
            if (zip64)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
                BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 24);
                BinaryPrimitives.WriteInt64LittleEndian(extra[4..], length);
                BinaryPrimitives.WriteInt64LittleEndian(extra[12..], length);
                BinaryPrimitives.WriteInt64LittleEndian(extra[20..], offset);
                stream.Write(extra);
            }
        }

        var directoryLength = stream.Position - directoryStart;
        anyZip64 |= directoryStart >= Max32 || directoryLength >= Max32 || _entries.Count >= ushort.MaxValue;
        if (anyZip64)
        {
            var recordStart = stream.Position;
            Span<byte> record = stackalloc byte[56 + 20];
            BinaryPrimitives.WriteUInt32LittleEndian(record, 0x06064b50);
            BinaryPrimitives.WriteInt64LittleEndian(record[4..], 44);
            BinaryPrimitives.WriteUInt16LittleEndian(record[12..], 45);
            BinaryPrimitives.WriteUInt16LittleEndian(record[14..], 45);
            BinaryPrimitives.WriteUInt32LittleEndian(record[16..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(record[20..], 0);
            BinaryPrimitives.WriteInt64LittleEndian(record[24..], _entries.Count);
            BinaryPrimitives.WriteInt64LittleEndian(record[32..], _entries.Count);
            BinaryPrimitives.WriteInt64LittleEndian(record[40..], directoryLength);
            BinaryPrimitives.WriteInt64LittleEndian(record[48..], directoryStart);
            BinaryPrimitives.WriteUInt32LittleEndian(record[56..], 0x07064b50); // locator
            BinaryPrimitives.WriteUInt32LittleEndian(record[60..], 0);
            BinaryPrimitives.WriteInt64LittleEndian(record[64..], recordStart);
            BinaryPrimitives.WriteUInt32LittleEndian(record[72..], 1);
            stream.Write(record);
        }

        Span<byte> end = stackalloc byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(end[4..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(end[6..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], anyZip64 ? ushort.MaxValue : (ushort)_entries.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], anyZip64 ? ushort.MaxValue : (ushort)_entries.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], anyZip64 ? Max32 : (uint)directoryLength);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], anyZip64 ? Max32 : (uint)directoryStart);
        BinaryPrimitives.WriteUInt16LittleEndian(end[20..], 0);
        stream.Write(end);
    }
}
