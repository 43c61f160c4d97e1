using System.Buffers.Binary;
using System.Security.Cryptography;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;

namespace SdTune.Imaging;

/// <summary>
/// The model hashes the Stable Diffusion ecosystem writes into infotexts and metadata:
/// <list type="bullet">
/// <item><see cref="Sha256"/>: the whole file (A1111's "sha256", Civitai's "SHA256");</item>
/// <item><see cref="ShortHash"/>: its first 10 hex digits, A1111's current <c>Model hash</c> (Civitai "AutoV2");</item>
/// <item><see cref="LegacyHash"/>: A1111's old 8-digit <c>Model hash</c>, SHA-256 of the 64 KiB at offset 1 MiB;</item>
/// <item><see cref="SafetensorsDataHash"/>: SHA-256 of a safetensors file's data section (everything after the
///       length prefix and JSON header): kohya's <c>sshs_model_hash</c>, the "addnet" hash A1111 uses for LoRA
///       files, unchanged by metadata edits;</item>
/// <item><see cref="LoraHash"/>: the short hash A1111 writes for a LoRA in the infotext's <c>Lora hashes</c>.</item>
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

    /// <summary>
    /// The hash A1111 writes for a LoRA file in the <c>Lora hashes</c> infotext field, and looks LoRA files up by when
    /// parameters are pasted: the first 12 characters of the file's <c>sshs_model_hash</c> metadata when it has a
    /// non-empty one (taken as written, not checked), else of the <see cref="SafetensorsDataHash"/> for a
    /// <c>.safetensors</c> file, else of the whole file's <see cref="Sha256"/>.
    /// </summary>
    /// <exception cref="CheckpointFormatException">A <c>.safetensors</c> file's header is invalid.</exception>
    public static string LoraHash(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            return ShortHash(path, 12);
        }

        using (var file = SafetensorsFile.Open(path))
        {
            if (file.Metadata.TryGetValue("sshs_model_hash", out var recorded) && recorded.Length > 0)
            {
                return recorded[..Math.Min(12, recorded.Length)];
            }
        }

        return SafetensorsDataHash(path)[..12];
    }

    /// <summary>
    /// <see cref="SafetensorsDataHash"/> and <see cref="LegacyHash"/> of the safetensors file that
    /// <paramref name="write"/> writes to the stream it is given, computed as the bytes pass: no file is written.
    /// </summary>
    /// <param name="write">Writes a whole safetensors file (8-byte length, header, data) to the stream.</param>
    /// <returns>The data-section hash (64 hex digits) and the legacy hash (8 hex digits).</returns>
    /// <exception cref="InvalidDataException">What was written is shorter than its declared header.</exception>
    public static (string DataHash, string LegacyHash) OfSafetensorsBytes(Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var sink = new SafetensorsHashStream();
        write(sink);
        return sink.Finish();
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

    /// <summary>A write-only stream that hashes a safetensors serialization's data section and its legacy-hash window.</summary>
    private sealed class SafetensorsHashStream : Stream
    {
        private readonly IncrementalHash data = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly IncrementalHash legacy = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly byte[] prefix = new byte[8];
        private long position;
        private long dataStart = long.MaxValue;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => position;

        public override long Position
        {
            get => position;
            set => throw new NotSupportedException();
        }

        public (string DataHash, string LegacyHash) Finish()
        {
            if (position < dataStart)
            {
                throw new InvalidDataException($"The safetensors bytes end after {position} bytes, inside their 8-byte length or header.");
            }

            return (Convert.ToHexStringLower(data.GetHashAndReset()), Convert.ToHexStringLower(legacy.GetHashAndReset())[..8]);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (position < 8)
            {
                var n = (int)Math.Min(8 - position, buffer.Length);
                buffer[..n].CopyTo(prefix.AsSpan((int)position));
                if (position + n == 8)
                {
                    dataStart = 8 + (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(prefix), long.MaxValue - 8);
                }
            }

            Append(data, buffer, dataStart, long.MaxValue);
            Append(legacy, buffer, LegacyOffset, LegacyOffset + LegacyLength);
            position += buffer.Length;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                data.Dispose();
                legacy.Dispose();
            }

            base.Dispose(disposing);
        }

        /// <summary>Hashes the part of <paramref name="buffer"/> (which starts at <see cref="position"/>) inside [from, to).</summary>
        private void Append(IncrementalHash hash, ReadOnlySpan<byte> buffer, long from, long to)
        {
            var start = Math.Max(from, position);
            var end = Math.Min(to, position + buffer.Length);
            if (start < end)
            {
                hash.AppendData(buffer.Slice((int)(start - position), (int)(end - start)));
            }
        }
    }
}
