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
        var layout = entries.Select(e => new SafetensorsTensorLayout(e.Key, SafetensorsDTypes.FromScalarType(e.Value.dtype), e.Value.shape)).ToList();
        var header = BuildHeader(layout, metadata);
        AtomicFile.Write(path, stream =>
        {
            WritePrefix(stream, header);
            foreach (var (_, tensor) in entries)
            {
                WriteData(stream, tensor);
            }
        });
    }

    /// <summary>
    /// Writes a file whose tensors are produced one at a time, in layout order, while the file is written: the header
    /// comes from <paramref name="layout"/>, then <paramref name="produce"/> is called with each index and its tensor is
    /// written and disposed before the next is produced. A checkpoint converted on the fly is never held whole in memory.
    /// </summary>
    /// <param name="path">Destination file; replaced atomically (a failure leaves any previous file untouched).</param>
    /// <param name="layout">Name, type and shape of every tensor, in file order; names must be unique.</param>
    /// <param name="produce">Returns the tensor for a layout index; the writer owns (and disposes) what it returns.
    /// It must have exactly the layout's type and shape.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> string map.</param>
    /// <exception cref="ArgumentException">A name is repeated or empty.</exception>
    /// <exception cref="InvalidOperationException">A produced tensor does not match its layout entry (the message names it).</exception>
    public static void Save(string path, IReadOnlyList<SafetensorsTensorLayout> layout, Func<int, Tensor> produce, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(produce);
        var header = BuildHeader(layout, metadata);
        AtomicFile.Write(path, stream =>
        {
            WritePrefix(stream, header);
            for (var i = 0; i < layout.Count; i++)
            {
                using var tensor = produce(i);
                var expected = layout[i];
                if (tensor.dtype != expected.DType.ToScalarType() || !tensor.shape.SequenceEqual(expected.Shape))
                {
                    throw new InvalidOperationException(
                        $"{path}: tensor '{expected.Name}' was announced as {expected.DType} [{string.Join(", ", expected.Shape)}] but produced as {tensor.dtype} [{string.Join(", ", tensor.shape)}].");
                }

                WriteData(stream, tensor);
            }
        });
    }

    private static void WritePrefix(Stream stream, byte[] header)
    {
        Span<byte> prefix = stackalloc byte[8];
        BitConverter.TryWriteBytes(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
    }

    /// <summary>Builds the JSON header, padded with spaces to a multiple of 8 bytes as the reference writer does.</summary>
    private static byte[] BuildHeader(IReadOnlyList<SafetensorsTensorLayout> entries, IReadOnlyDictionary<string, string>? metadata)
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
            foreach (var entry in entries)
            {
                var name = entry.Name;
                if (string.IsNullOrEmpty(name) || name == "__metadata__" || !names.Add(name))
                {
                    throw new ArgumentException($"Tensor name '{name}' is empty, reserved or repeated.", nameof(entries));
                }

                var length = entry.ByteLength;
                json.WriteStartObject(name);
                json.WriteString("dtype", entry.DType.ToString());
                json.WriteStartArray("shape");
                foreach (var dim in entry.Shape)
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
