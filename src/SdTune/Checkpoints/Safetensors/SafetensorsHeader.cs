using System.Text.Json;

namespace SdTune.Checkpoints.Safetensors;

/// <summary>
/// The parsed and fully validated header of a safetensors file: every tensor's dtype, shape and byte range,
/// plus the <c>__metadata__</c> string map. Parsing never trusts a number before checking it against the file.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>Largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

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
        if (headerLength > MaxHeaderBytes)
        {
            throw new CheckpointFormatException(path, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit (corrupt or not a safetensors file).");
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
        if (json.Length == 0 || json[0] != (byte)'{')
        {
            throw new CheckpointFormatException(path, "header is not a JSON object (does not start with '{').");
        }

        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new CheckpointFormatException(path, "header is not valid UTF-8 text.");
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"header is not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(path, "header is not a JSON object.");
            }

            var tensors = new List<SafetensorsTensorInfo>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new CheckpointFormatException(path, $"tensor '{property.Name}' appears twice in the header.");
                }

                if (property.Name == MetadataKey)
                {
                    metadata = ParseMetadata(path, property.Value);
                    continue;
                }

                tensors.Add(ParseTensor(path, property.Name, property.Value, dataLength));
            }

            CheckLayout(path, tensors, dataLength);
            return new SafetensorsHeader(tensors, metadata, json.Length);
        }
    }

    private static Dictionary<string, string> ParseMetadata(string path, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException(path, "__metadata__ must be an object of strings.");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointFormatException(path, $"__metadata__ entry '{entry.Name}' is a {entry.Value.ValueKind}, not a string.");
            }

            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
            {
                throw new CheckpointFormatException(path, $"__metadata__ entry '{entry.Name}' appears twice.");
            }
        }

        return metadata;
    }

    private static SafetensorsTensorInfo ParseTensor(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': entry is a {value.ValueKind}, not an object.");
        }

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': missing or non-string 'dtype'.");
        }

        var dtypeText = dtypeElement.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeText, out var dtype))
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': unknown or unsupported dtype '{dtypeText}' (supported: {string.Join(", ", Enum.GetNames<SafetensorsDType>())}).");
        }

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': missing or non-array 'shape'.");
        }

        var shape = new List<long>();
        long elements = 1;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var size) || size < 0)
            {
                throw new CheckpointFormatException(path, $"tensor '{name}': shape entry {dim} is not a non-negative integer.");
            }

            shape.Add(size);
            elements = elements > 0 && size > long.MaxValue / elements
                ? throw new CheckpointFormatException(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] overflows.")
                : elements * size;
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': 'data_offsets' must be an array of two integers.");
        }

        var begin = ReadOffset(path, name, offsetsElement[0]);
        var end = ReadOffset(path, name, offsetsElement[1]);
        if (end < begin)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': data_offsets [{begin}, {end}] end before they begin.");
        }

        if (end > dataLength)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': data_offsets [{begin}, {end}] run past the {dataLength} data bytes of the file (truncated?).");
        }

        var size8 = dtype.ElementSize();
        if (elements > long.MaxValue / size8 || elements * size8 != end - begin)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtypeText} needs {(elements > long.MaxValue / size8 ? "more than 2^63" : (elements * size8).ToString(System.Globalization.CultureInfo.InvariantCulture))} bytes but data_offsets give {end - begin}.");
        }

        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static long ReadOffset(string path, string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var offset) || offset < 0)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': data offset {element} is not a non-negative integer.");
        }

        return offset;
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
