using SdTune.IO;
using SdTune.Runtime;
using static TorchSharp.torch;

namespace SdTune.Checkpoints.Safetensors;

/// <summary>
/// Writes safetensors files atomically (a failed write never replaces an existing file), byte-identical to what the
/// Python <c>safetensors</c> package writes for the same tensors and metadata (order, header JSON and padding:
/// <see cref="SafetensorsHeaderBuilder"/>).
/// </summary>
public static class SafetensorsWriter
{
    private const int ChunkBytes = 1 << 26;

    /// <summary>Writes <paramref name="tensors"/> and <paramref name="metadata"/> to <paramref name="path"/>.</summary>
    /// <param name="path">Destination file; replaced atomically.</param>
    /// <param name="tensors">Named tensors; names must be unique. Any device or layout; they are copied as needed.
    /// The file orders them as the reference writer does: by descending dtype alignment, then by name.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> string map (null writes none; empty writes <c>{}</c>).</param>
    /// <exception cref="ArgumentException">A name is repeated or empty, a name or metadata text is not valid Unicode, or a tensor type cannot be stored.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = tensors.ToList();
        var (layout, order, header) = Prepare(entries, metadata);
        AtomicFile.Write(path, stream => WriteAll(stream, header, order, layout, i => entries[i].Value, owned: false, path));
    }

    /// <summary>
    /// Writes the file's bytes to <paramref name="destination"/> (not atomically): the same bytes
    /// <see cref="Save(string, IEnumerable{KeyValuePair{string, Tensor}}, IReadOnlyDictionary{string, string}?)"/> writes.
    /// </summary>
    /// <exception cref="ArgumentException">A name is repeated or empty, a name or metadata text is not valid Unicode, or a tensor type cannot be stored.</exception>
    public static void Write(Stream destination, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = tensors.ToList();
        var (layout, order, header) = Prepare(entries, metadata);
        WriteAll(destination, header, order, layout, i => entries[i].Value, owned: false, path: null);
    }

    /// <summary>
    /// Writes a file whose tensors are produced one at a time while the file is written: the header comes from
    /// <paramref name="layout"/>, then <paramref name="produce"/> is called with each layout index in file order (by
    /// descending dtype alignment, then by name) and its tensor is written and disposed before the next is produced.
    /// A checkpoint converted on the fly is never held whole in memory.
    /// </summary>
    /// <param name="path">Destination file; replaced atomically (a failure leaves any previous file untouched).</param>
    /// <param name="layout">Name, type and shape of every tensor; names must be unique.</param>
    /// <param name="produce">Returns the tensor for a layout index; the writer owns (and disposes) what it returns.
    /// It must have exactly the layout's type and shape.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> string map (null writes none; empty writes <c>{}</c>).</param>
    /// <exception cref="ArgumentException">A name is repeated or empty, or a name or metadata text is not valid Unicode.</exception>
    /// <exception cref="InvalidOperationException">A produced tensor does not match its layout entry (the message names it).</exception>
    public static void Save(string path, IReadOnlyList<SafetensorsTensorLayout> layout, Func<int, Tensor> produce, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(produce);
        var (order, header) = SafetensorsHeaderBuilder.Build(layout, metadata);
        AtomicFile.Write(path, stream => WriteAll(stream, header, order, layout, produce, owned: true, path));
    }

    private static (List<SafetensorsTensorLayout> Layout, int[] Order, byte[] Header) Prepare(List<KeyValuePair<string, Tensor>> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var layout = entries.Select(e => new SafetensorsTensorLayout(e.Key, SafetensorsDTypes.FromScalarType(e.Value.dtype), e.Value.shape)).ToList();
        var (order, header) = SafetensorsHeaderBuilder.Build(layout, metadata);
        return (layout, order, header);
    }

    private static void WriteAll(Stream stream, byte[] header, int[] order, IReadOnlyList<SafetensorsTensorLayout> layout, Func<int, Tensor> get, bool owned, string? path)
    {
        Span<byte> prefix = stackalloc byte[8];
        BitConverter.TryWriteBytes(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (var i in order)
        {
            var tensor = get(i);
            try
            {
                var expected = layout[i];
                if (tensor.dtype != expected.DType.ToScalarType() || !tensor.shape.SequenceEqual(expected.Shape))
                {
                    throw new InvalidOperationException(
                        $"{path ?? "safetensors"}: tensor '{expected.Name}' was announced as {expected.DType} [{string.Join(", ", expected.Shape)}] but produced as {tensor.dtype} [{string.Join(", ", tensor.shape)}].");
                }

                WriteData(stream, tensor);
            }
            finally
            {
                if (owned)
                {
                    tensor.Dispose();
                }
            }
        }
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
