namespace SdTune.Checkpoints.Inspection;

/// <summary>The container formats SdTune reads.</summary>
public enum ContainerKind
{
    /// <summary>Not recognised.</summary>
    Unknown,

    /// <summary>safetensors.</summary>
    Safetensors,

    /// <summary>A torch.save file: a zip with data.pkl, or a legacy raw pickle.</summary>
    TorchPickle,
}

/// <summary>Recognises a file's container format from its first bytes, not its extension.</summary>
public static class ContainerFormat
{
    /// <summary>Detects the container format of <paramref name="path"/>.</summary>
    public static ContainerKind Detect(string path)
    {
        Span<byte> head = stackalloc byte[16];
        int read;
        using (var stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        head = head[..read];
        if (read >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4)
        {
            return ContainerKind.TorchPickle;
        }

        if (read >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5)
        {
            return ContainerKind.TorchPickle;
        }

        // safetensors: 8-byte little-endian header length, then a JSON object.
        return read >= 9 && head[8] == (byte)'{' ? ContainerKind.Safetensors : ContainerKind.Unknown;
    }
}
