using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Pickle;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;

namespace SdTune.Checkpoints;

/// <summary>Opens any weight file SdTune reads as an <see cref="ITensorSource"/>, recognising the format by content.</summary>
public static class TensorSources
{
    /// <summary>
    /// Opens <paramref name="path"/>: a safetensors file, a PyTorch pickle checkpoint (zip or legacy; read lazily), or a
    /// shard index (<c>*.safetensors.index.json</c> / <c>*.bin.index.json</c>, a JSON object) over shards of either kind.
    /// The format is told from the first bytes, not the extension.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is of no known format, or is corrupt; the message names it.</exception>
    public static ITensorSource Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found.", path);
        }

        // Binary formats first: a safetensors file's first byte (low byte of its header length) may happen to be '{'.
        if (ContainerFormat.Detect(path) == ContainerKind.Unknown && StartsWithJsonObject(path))
        {
            return ShardedTensorSource.Open(path, OpenShard);
        }

        return OpenShard(path);
    }

    private static ITensorSource OpenShard(string path) => ContainerFormat.Detect(path) switch
    {
        ContainerKind.Safetensors => new SafetensorsTensorSource(path),
        ContainerKind.TorchPickle => PickleTensorSource.Open(path),
        _ => throw new CheckpointFormatException(path, new FileInfo(path).Length < 16
            ? $"the file is only {new FileInfo(path).Length} bytes long: truncated or empty, not a weight file"
            : "not a safetensors file, a PyTorch checkpoint (zip or legacy pickle) or a shard index (.index.json)"),
    };

    private static bool StartsWithJsonObject(string path)
    {
        Span<byte> head = stackalloc byte[64];
        int read;
        using (var stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        foreach (var b in head[..read])
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF or 0xBB or 0xBF)
            {
                continue;
            }

            return b == (byte)'{';
        }

        return false;
    }
}
