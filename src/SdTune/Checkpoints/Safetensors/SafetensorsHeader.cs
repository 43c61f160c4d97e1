using System.Globalization;
using SdTune.Checkpoints.Inspection;
using SdTune.IO;

namespace SdTune.Checkpoints.Safetensors;

/// <summary>
/// The parsed and fully validated header of a safetensors file: every tensor's dtype, shape and byte range,
/// plus the <c>__metadata__</c> string map. Parsing never trusts a number before checking it against the file.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>
    /// Largest header accepted: 32 MiB. Real headers are far smaller (an SDXL checkpoint's ~2,500 tensors take about
    /// 0.2 MB; kohya's largest metadata, tag frequencies of big datasets, a few MB), and the reference
    /// implementation's own limit (100 MB) let a header cost gigabytes of memory to parse.
    /// </summary>
    public const long MaxHeaderBytes = 32L << 20;

    /// <summary>Most tensors a header may list: 100,000, forty times an SDXL checkpoint's ~2,500.</summary>
    public const int MaxTensorCount = 100_000;

    private SafetensorsHeader(IReadOnlyList<SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata, long headerLength)
    {
        Tensors = tensors;
        Metadata = metadata;
        HeaderLength = headerLength;
        ByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The tensors in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The tensors by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsTensorInfo> ByName { get; }

    /// <summary>The <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Length in bytes of the JSON header (without the 8-byte length prefix).</summary>
    public long HeaderLength { get; }

    /// <summary>File offset of the first data byte.</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>Reads and validates the header of an open file.</summary>
    /// <param name="path">The file name used in error messages.</param>
    /// <param name="handle">A readable handle to the file.</param>
    /// <exception cref="CheckpointFormatException">Anything about the header is wrong.</exception>
    public static SafetensorsHeader Read(string path, Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        var fileLength = RandomAccess.GetLength(handle);
        if (fileLength < 8)
        {
            throw new CheckpointFormatException(path, $"not a safetensors file: {fileLength} bytes, too short for the 8-byte header length.");
        }

        Span<byte> prefix = stackalloc byte[8];
        RandomAccess.Read(handle, prefix, 0);
        var headerLength = BitConverter.ToUInt64(prefix);
        if ((headerLength > MaxHeaderBytes || (long)headerLength > fileLength - 8) && ContainerFormat.DescribeTorchContainer(prefix) is { } torchFile)
        {
            throw new CheckpointFormatException(path, $"not a safetensors file: it is a PyTorch checkpoint ({torchFile}).");
        }

        if (headerLength > MaxHeaderBytes)
        {
            throw new CheckpointFormatException(path, string.Create(CultureInfo.InvariantCulture, $"header length {headerLength} exceeds the limit of {MaxHeaderBytes:N0} bytes (32 MiB): corrupt, or not a safetensors file."));
        }

        if ((long)headerLength > fileLength - 8)
        {
            throw new CheckpointFormatException(path, $"header length {headerLength} runs past the end of the file ({fileLength} bytes): the file is truncated or not safetensors.");
        }

        var json = new byte[headerLength];
        for (var done = 0; done < json.Length;)
        {
            var read = RandomAccess.Read(handle, json.AsSpan(done), 8 + done);
            done += read > 0 ? read : throw new CheckpointFormatException(path, "file ended inside the header.");
        }

        return Parse(path, json, fileLength - 8 - (long)headerLength);
    }

    /// <summary>Parses a header's JSON given the number of data bytes that follow it.</summary>
    /// <exception cref="CheckpointFormatException">Anything about the header is wrong.</exception>
    public static SafetensorsHeader Parse(string path, ReadOnlySpan<byte> json, long dataLength)
    {
        var (tensors, metadata) = SafetensorsHeaderParser.Parse(path, json, dataLength);
        CheckLayout(path, tensors, dataLength);
        return new SafetensorsHeader(tensors, metadata, json.Length);
    }

    private static void CheckLayout(string path, List<SafetensorsTensorInfo> tensors, long dataLength)
    {
        var ordered = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        long expected = 0;
        foreach (var tensor in ordered)
        {
            if (tensor.Begin < expected)
            {
                throw new CheckpointFormatException(path, $"tensor '{tensor.Name}': data [{tensor.Begin}, {tensor.End}] overlaps the previous tensor (which ends at {expected}).");
            }

            if (tensor.Begin > expected)
            {
                throw new CheckpointFormatException(path, $"tensor '{tensor.Name}': gap of {tensor.Begin - expected} unused bytes before its data at {tensor.Begin}.");
            }

            expected = tensor.End;
        }

        if (expected != dataLength)
        {
            throw new CheckpointFormatException(path, $"the tensors cover {expected} data bytes but the file holds {dataLength} after the header.");
        }
    }
}
