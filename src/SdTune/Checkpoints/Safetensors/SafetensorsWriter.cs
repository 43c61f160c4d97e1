using System.Text.Json;
using SdTune.IO;
using SdTune.Runtime;
using static TorchSharp.torch;

namespace SdTune.Checkpoints.Safetensors;

/// <summary>Writes safetensors files atomically (a failed write never replaces an existing file).</summary>
public static class SafetensorsWriter
{
    private const int ChunkBytes = 1 << 26;

    /// <summary>Writes <paramref name="tensors"/> (in the given order) and <paramref name="metadata"/> to <paramref name="path"/>.</summary>
    /// <param name="path">Destination file; replaced atomically.</param>
    /// <param name="tensors">Named tensors; names must be unique. Any device or layout; they are copied as needed.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> string map.</param>
    /// <exception cref="ArgumentException">A name is repeated or empty, or a tensor type cannot be stored.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = tensors.ToList();
        var header = BuildHeader(entries, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BitConverter.TryWriteBytes(prefix, (ulong)header.Length);
            stream.Write(prefix);
            stream.Write(header);
            foreach (var (_, tensor) in entries)
            {
                WriteData(stream, tensor);
            }
        });
    }

    /// <summary>Builds the JSON header, padded with spaces to a multiple of 8 bytes as the reference writer does.</summary>
    private static byte[] BuildHeader(List<KeyValuePair<string, Tensor>> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var (name, tensor) in entries)
            {
                if (string.IsNullOrEmpty(name) || name == "__metadata__" || !names.Add(name))
                {
                    throw new ArgumentException($"Tensor name '{name}' is empty, reserved or repeated.", nameof(entries));
                }

                var dtype = SafetensorsDTypes.FromScalarType(tensor.dtype);
                var length = tensor.numel() * dtype.ElementSize();
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype.ToString());
                json.WriteStartArray("shape");
                foreach (var dim in tensor.shape)
                {
                    json.WriteNumberValue(dim);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += length;
            }

            json.WriteEndObject();
        }

        var padded = (int)((buffer.Length + 7) / 8 * 8);
        var bytes = new byte[padded];
        buffer.GetBuffer().AsSpan(0, (int)buffer.Length).CopyTo(bytes);
        bytes.AsSpan((int)buffer.Length).Fill((byte)' ');
        return bytes;
    }

    private static void WriteData(Stream stream, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var source = tensor.device_type == TorchSharp.DeviceType.CPU ? tensor.detach() : tensor.detach().cpu();
        source = source.contiguous();
        var total = NativeTensorMemory.ByteLength(source);
        for (long done = 0; done < total; done += ChunkBytes)
        {
            var chunk = (int)Math.Min(ChunkBytes, total - done);
            stream.Write(NativeTensorMemory.Bytes(source, done, chunk));
        }
    }
}
