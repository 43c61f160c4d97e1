using System.Security.Cryptography;

namespace SdTune.Adapters.Formats;

/// <summary>
/// The hashes kohya writes into LoRA metadata and A1111/Civitai use to identify a file: <c>sshs_model_hash</c>, the
/// SHA-256 of a safetensors file's data section (everything after the 8-byte length and the JSON header, so editing
/// metadata does not change it), and <c>sshs_legacy_hash</c>, the first 8 hex digits of the SHA-256 of bytes
/// [0x100000, 0x110000) of the file (fewer, or none, when the file is shorter).
/// </summary>
public static class KohyaHashes
{
    private const long LegacyOffset = 0x100000;
    private const int LegacyLength = 0x10000;

    /// <summary>SHA-256 (lower-case hex) of the data section of a safetensors file.</summary>
    /// <exception cref="InvalidDataException">The file is shorter than its header says.</exception>
    public static string ModelHash(string safetensorsPath)
    {
        using var stream = File.OpenRead(safetensorsPath);
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        var headerLength = BitConverter.ToUInt64(prefix);
        if (headerLength > (ulong)(stream.Length - 8))
        {
            throw new InvalidDataException($"{safetensorsPath}: the header length {headerLength} exceeds the file size {stream.Length}.");
        }

        stream.Position = 8 + (long)headerLength;
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>First 8 hex digits of the SHA-256 of the 64 KiB at offset 1 MiB of a file.</summary>
    public static string LegacyHash(string path)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[LegacyLength];
        var read = 0;
        if (stream.Length > LegacyOffset)
        {
            stream.Position = LegacyOffset;
            read = stream.ReadAtLeast(buffer, LegacyLength, throwOnEndOfStream: false);
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, read)))[..8];
    }
}
