using SdTune.Checkpoints.Inspection;
using SdTune.IO;
using TorchSharp;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// An opened torch checkpoint: its unpickled object tree (tensors still lazy) and access to the storage bytes.
/// Zip (torch ≥ 1.6) and the legacy stream format are supported.
/// </summary>
internal abstract class TorchCheckpointContainer : IDisposable
{
    // Storages are read straight into tensor memory in slices of this size: no second copy of the data.
    private const int ReadChunkBytes = 64 << 20;

    protected TorchCheckpointContainer(string path) => Path = path;

    public string Path { get; }

    /// <summary>The unpickled object; tensors are <see cref="DeferredTensor"/>s until materialised.</summary>
    public object? Root { get; protected set; }

    /// <summary>Opens a checkpoint, unpickles its object tree and checks it against the file's storages.</summary>
    public static TorchCheckpointContainer Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        try
        {
            Span<byte> head = stackalloc byte[ContainerFormat.HeadLength];
            head = head[..stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false)];
            stream.Position = 0;
            if (ContainerFormat.Detect(head, stream.Length) != ContainerKind.TorchPickle)
            {
                throw new CheckpointFormatException(path, "not a PyTorch checkpoint (neither a zip archive nor a pickle stream)");
            }

            // A zip archive, or any pickle, protocol 0 (text) to 5: a checkpoint in the legacy format, or a bare pickle
            // that the restricted unpickler reads just as far as its first refused global, which the error then names.
            return ContainerFormat.IsZipArchive(head)
                ? CheckpointErrors.Guard(path, () => new ZipTorchCheckpoint(path, stream))
                : CheckpointErrors.Guard(path, () => new LegacyTorchCheckpoint(path, stream));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads a whole base storage (all of the key's elements) into a new flat tensor.</summary>
    public abstract torch.Tensor ReadStorage(StorageReference storage);

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);

    protected CheckpointFormatException Error(string message) => new(Path, message);

    /// <summary>Fills a new 1-D tensor from a stream, slice by slice, directly in the tensor's memory.</summary>
    protected torch.Tensor ReadFlat(Stream stream, StorageReference storage, long elementCount)
    {
        var flat = torch.empty(elementCount, storage.Type.DType);
        try
        {
            var chunkElements = Math.Max(1, ReadChunkBytes / storage.Type.ElementSize);
            for (long start = 0; start < elementCount; start += chunkElements)
            {
                using var slice = flat.narrow(0, start, Math.Min(chunkElements, elementCount - start));
                var bytes = slice.bytes;
                if (stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length)
                {
                    throw Error($"storage '{storage.Key}' is truncated");
                }
            }

            return flat;
        }
        catch
        {
            flat.Dispose();
            throw;
        }
    }
}
