using System.Buffers.Binary;
using System.Security.Cryptography;

namespace SdTune.Imaging;

/// <summary>
/// The model hashes the Stable Diffusion ecosystem writes into infotexts and metadata:
/// <list type="bullet">
/// <item><see cref="Sha256"/>: the whole file (A1111's "sha256", Civitai's "SHA256");</item>
/// <item><see cref="ShortHash"/>: its first 10 hex digits, A1111's current <c>Model hash</c> (Civitai "AutoV2");</item>
/// <item><see cref="LegacyHash"/>: A1111's old 8-digit <c>Model hash</c>, SHA-256 of the 64 KiB at offset 1 MiB;</item>
/// <item><see cref="SafetensorsDataHash"/>: SHA-256 of a safetensors file's data section (everything after the
///       length prefix and JSON header): kohya's <c>sshs_model_hash</c>, the "addnet" hash A1111 uses for LoRA
///       files, unchanged by metadata edits.</item>
/// </list>
/// All hashes are lower-case hexadecimal.
/// </summary>
public static class ModelHashes
{
    private const long LegacyOffset = 0x100000;
    private const int LegacyLength = 0x10000;

    /// <summary>SHA-256 of the whole file, 64 hex digits.</summary>
    public static string Sha256(string path)
    {
        using var stream = OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The first <paramref name="length"/> hex digits of <see cref="Sha256"/>: 10 for A1111's model hash, 12 for its TI and LoRA hashes.</summary>
    public static string ShortHash(string path, int length = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 64);
        return Sha256(path)[..length];
    }

    /// <summary>
    /// A1111's legacy 8-digit model hash: SHA-256 of up to 64 KiB starting at byte 0x100000. Like A1111 (which
    /// seeks past the end and reads what is there), a file shorter than 1 MiB hashes the empty input, and one that
    /// ends inside the window hashes the bytes it has.
    /// </summary>
    public static string LegacyHash(string path)
    {
        using var stream = OpenRead(path);
        var buffer = new byte[LegacyLength];
        var read = 0;
        if (stream.Length > LegacyOffset)
        {
            stream.Position = LegacyOffset;
            read = stream.ReadAtLeast(buffer, LegacyLength, throwOnEndOfStream: false);
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, read)))[..8];
    }

    /// <summary>SHA-256 of the data section of a safetensors file (the bytes after the 8-byte length and the JSON header), 64 hex digits.</summary>
    /// <exception cref="InvalidDataException">The file is too short for its declared header.</exception>
    public static string SafetensorsDataHash(string path)
    {
        using var stream = OpenRead(path);
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
        {
            throw new InvalidDataException($"'{path}' is not a safetensors file: it is shorter than the 8-byte header length.");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(stream.Length - 8))
        {
            throw new InvalidDataException($"'{path}' is not a valid safetensors file: its header claims {headerLength} bytes but only {stream.Length - 8} follow.");
        }

        stream.Position = 8 + (long)headerLength;
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static FileStream OpenRead(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Cannot hash '{path}': the file does not exist.", path);
        }

        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
    }
}
