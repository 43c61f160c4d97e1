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
    /// <summary>How many leading bytes <see cref="Detect(ReadOnlySpan{byte}, long)"/> looks at.</summary>
    public const int HeadLength = 16;

    // Opcodes a pickle without a PROTO opcode (protocols 0 and 1) can start with: MARK, a value, an empty container
    // or a global. Python reads such a stream as readily as a protocol 2+ one, so a file like this is a pickle.
    private static readonly byte[] Protocol0Or1Starts = "(FGIJKLMNSTUVXc}])"u8.ToArray();

    /// <summary>Detects the container format of <paramref name="path"/>.</summary>
    public static ContainerKind Detect(string path)
    {
        Span<byte> head = stackalloc byte[HeadLength];
        int read;
        long length;
        using (var stream = File.OpenRead(path))
        {
            length = stream.Length;
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        return Detect(head[..read], length);
    }

    /// <summary>Detects the container format from a file's first bytes and its length.</summary>
    /// <param name="head">The first <see cref="HeadLength"/> bytes of the file (fewer if it is shorter).</param>
    /// <param name="fileLength">The file's length in bytes.</param>
    public static ContainerKind Detect(ReadOnlySpan<byte> head, long fileLength)
    {
        // safetensors first: an 8-byte little-endian header length that fits the file, then a JSON object. Its length
        // may start like a pickle (640 bytes is 80 02 00 ..., a PROTO 2 opcode), while a pickle or zip whose first
        // eight bytes read as a length that fits the file, followed by '{', does not occur.
        var brace = head.Length >= 9 && head[8] == (byte)'{';
        if (brace && BitConverter.ToUInt64(head) <= (ulong)Math.Max(0, fileLength - 8))
        {
            return ContainerKind.Safetensors;
        }

        if (DescribeTorchContainer(head) is not null || (head.Length >= 2 && Protocol0Or1Starts.Contains(head[0])))
        {
            return ContainerKind.TorchPickle;
        }

        // A safetensors file whose length field is wrong (truncated, corrupt): its reader says what is wrong.
        return brace ? ContainerKind.Safetensors : ContainerKind.Unknown;
    }

    /// <summary>
    /// "zip archive" or "pickle protocol N" when <paramref name="head"/> starts like a file <c>torch.save</c> writes
    /// (a zip local-file header, or a pickle PROTO opcode), else null. Text pickles (protocol 0) and protocol 1
    /// have no signature this strong; <see cref="Detect(ReadOnlySpan{byte}, long)"/> recognises them by their first opcode.
    /// </summary>
    public static string? DescribeTorchContainer(ReadOnlySpan<byte> head) => head switch
    {
        [(byte)'P', (byte)'K', 3, 4, ..] => "zip archive",
        [0x80, <= 5 and var protocol, ..] => $"pickle protocol {protocol}",
        _ => null,
    };

    /// <summary>Whether <paramref name="head"/> starts with a zip local-file header (the torch ≥ 1.6 format).</summary>
    internal static bool IsZipArchive(ReadOnlySpan<byte> head) => head is [(byte)'P', (byte)'K', 3, 4, ..];
}
