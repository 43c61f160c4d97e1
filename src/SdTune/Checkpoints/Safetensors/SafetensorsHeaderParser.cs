using System.Globalization;
using System.Text.Json;
using SdTune.IO;

namespace SdTune.Checkpoints.Safetensors;

/// <summary>
/// Reads a safetensors header's JSON in one forward pass, as the reference reader (serde_json) accepts it: one
/// object that starts at the first byte, followed only by JSON whitespace (writers pad the header with spaces to
/// a multiple of 8 bytes); strings that are valid Unicode; <c>__metadata__</c> an object of strings or null; each
/// tensor an object with exactly one <c>dtype</c>, <c>shape</c> and <c>data_offsets</c> (other fields are ignored).
/// Tensors are counted as they are met, so a header listing more than <see cref="SafetensorsHeader.MaxTensorCount"/>
/// is refused before they are all built. Duplicate names are refused (the reference keeps the last one silently).
/// </summary>
internal static class SafetensorsHeaderParser
{
    private const string MetadataKey = "__metadata__";

    // Ignored fields may nest; the header's own structure needs 3 levels.
    private const int MaxDepth = 64;

    /// <summary>The tensors (header order, each checked against <paramref name="dataLength"/>) and the metadata.</summary>
    /// <exception cref="CheckpointFormatException">The JSON is malformed or breaks a rule above.</exception>
    public static (List<SafetensorsTensorInfo> Tensors, Dictionary<string, string> Metadata) Parse(string path, ReadOnlySpan<byte> json, long dataLength)
    {
        if (json.Length == 0 || json[0] != (byte)'{')
        {
            throw new CheckpointFormatException(path, "header is not a JSON object (does not start with '{').");
        }

        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new CheckpointFormatException(path, "header is not valid UTF-8 text.");
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        try
        {
            var result = ReadRoot(path, ref reader, dataLength);
            CheckTrailingBytes(path, json, (int)reader.BytesConsumed);
            return result;
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"header is not valid JSON: {e.Message}");
        }
    }

    private static (List<SafetensorsTensorInfo>, Dictionary<string, string>) ReadRoot(string path, ref Utf8JsonReader reader, long dataLength)
    {
        reader.Read(); // the '{' checked above
        var tensors = new List<SafetensorsTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;
        while (Next(path, ref reader) == JsonTokenType.PropertyName)
        {
            var name = ReadString(path, ref reader, "a tensor name");
            Next(path, ref reader);
            if (name == MetadataKey)
            {
                metadata = metadata is null
                    ? ReadMetadata(path, ref reader)
                    : throw new CheckpointFormatException(path, "__metadata__ appears twice in the header.");
                continue;
            }

            if (tensors.Count == SafetensorsHeader.MaxTensorCount)
            {
                throw new CheckpointFormatException(path, string.Create(CultureInfo.InvariantCulture, $"header lists more than {SafetensorsHeader.MaxTensorCount:N0} tensors, the limit (no real model has a tenth as many): corrupt or hostile file."));
            }

            if (!names.Add(name))
            {
                throw new CheckpointFormatException(path, $"tensor '{name}' appears twice in the header.");
            }

            tensors.Add(ReadTensor(path, ref reader, name, dataLength));
        }

        return (tensors, metadata ?? []);
    }

    private static Dictionary<string, string> ReadMetadata(string path, ref Utf8JsonReader reader)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return metadata; // the reference reads an absent map as null too
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new CheckpointFormatException(path, "__metadata__ must be an object of strings.");
        }

        while (Next(path, ref reader) == JsonTokenType.PropertyName)
        {
            var key = ReadString(path, ref reader, "a __metadata__ key");
            if (Next(path, ref reader) != JsonTokenType.String)
            {
                throw new CheckpointFormatException(path, $"__metadata__ entry '{key}' is a {Kind(reader.TokenType)}, not a string.");
            }

            var value = ReadString(path, ref reader, $"the __metadata__ value of '{key}'");
            if (!metadata.TryAdd(key, value))
            {
                throw new CheckpointFormatException(path, $"__metadata__ entry '{key}' appears twice.");
            }
        }

        return metadata;
    }

    private static SafetensorsTensorInfo ReadTensor(string path, ref Utf8JsonReader reader, string name, long dataLength)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': entry is a {Kind(reader.TokenType)}, not an object.");
        }

        string? dtypeText = null;
        List<long>? shape = null;
        (long Begin, long End)? offsets = null;
        while (Next(path, ref reader) == JsonTokenType.PropertyName)
        {
            var field = ReadString(path, ref reader, $"a field name of tensor '{name}'");
            Next(path, ref reader);
            switch (field)
            {
                case "dtype":
                    Once(path, name, field, dtypeText is not null);
                    dtypeText = reader.TokenType == JsonTokenType.String
                        ? ReadString(path, ref reader, $"the dtype of tensor '{name}'")
                        : throw new CheckpointFormatException(path, $"tensor '{name}': missing or non-string 'dtype'.");
                    break;
                case "shape":
                    Once(path, name, field, shape is not null);
                    shape = ReadShape(path, ref reader, name);
                    break;
                case "data_offsets":
                    Once(path, name, field, offsets is not null);
                    offsets = ReadOffsets(path, ref reader, name);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return Validate(path, name, dtypeText, shape, offsets, dataLength);
    }

    private static SafetensorsTensorInfo Validate(string path, string name, string? dtypeText, List<long>? shape, (long Begin, long End)? offsets, long dataLength)
    {
        if (dtypeText is null)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': missing or non-string 'dtype'.");
        }

        if (!SafetensorsDTypes.TryParse(dtypeText, out var dtype))
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': unknown or unsupported dtype '{dtypeText}' (supported: {string.Join(", ", Enum.GetNames<SafetensorsDType>())}).");
        }

        if (shape is null)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': missing or non-array 'shape'.");
        }

        if (offsets is not { } range)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': 'data_offsets' must be an array of two integers.");
        }

        long elements = 1;
        foreach (var size in shape)
        {
            elements = elements > 0 && size > long.MaxValue / elements
                ? throw new CheckpointFormatException(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] overflows.")
                : elements * size;
        }

        var (begin, end) = range;
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
            var needed = elements > long.MaxValue / size8 ? "more than 2^63" : (elements * size8).ToString(CultureInfo.InvariantCulture);
            throw new CheckpointFormatException(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtypeText} needs {needed} bytes but data_offsets give {end - begin}.");
        }

        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static List<long> ReadShape(string path, ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': missing or non-array 'shape'.");
        }

        var shape = new List<long>();
        while (Next(path, ref reader) != JsonTokenType.EndArray)
        {
            shape.Add(ReadNonNegative(path, ref reader, name, "shape entry"));
        }

        return shape;
    }

    private static (long, long) ReadOffsets(string path, ref Utf8JsonReader reader, string name)
    {
        var offsets = new List<long>(2);
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (Next(path, ref reader) != JsonTokenType.EndArray && offsets.Count <= 2)
            {
                offsets.Add(ReadNonNegative(path, ref reader, name, "data offset"));
            }
        }

        return offsets.Count == 2 && reader.TokenType == JsonTokenType.EndArray
            ? (offsets[0], offsets[1])
            : throw new CheckpointFormatException(path, $"tensor '{name}': 'data_offsets' must be an array of two integers.");
    }

    private static long ReadNonNegative(string path, ref Utf8JsonReader reader, string name, string what)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value) || value < 0)
        {
            var text = reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject ? Kind(reader.TokenType) : System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
            throw new CheckpointFormatException(path, $"tensor '{name}': {what} {Shorten(text)} is not a non-negative integer.");
        }

        return value;
    }

    private static void Once(string path, string name, string field, bool seen)
    {
        if (seen)
        {
            throw new CheckpointFormatException(path, $"tensor '{name}': '{field}' appears twice.");
        }
    }

    private static JsonTokenType Next(string path, ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw new CheckpointFormatException(path, "header ends inside its JSON object.");

    private static string ReadString(string path, ref Utf8JsonReader reader, string what) =>
        StrictJson.TryGetString(ref reader, out var escape)
        ?? throw new CheckpointFormatException(path, $"{what} in the header holds the escape {escape}, a lone UTF-16 surrogate, which is not valid Unicode.");

    // After the object only JSON whitespace may follow: writers pad with spaces to an 8-byte boundary.
    private static void CheckTrailingBytes(string path, ReadOnlySpan<byte> json, int end)
    {
        var rest = json[end..];
        var bad = rest.IndexOfAnyExcept(" \t\r\n"u8);
        if (bad >= 0)
        {
            throw new CheckpointFormatException(path, $"header has {rest.Length - bad} bytes after its JSON object that are not whitespace padding (first at header byte {end + bad}: 0x{rest[bad]:x2}).");
        }
    }

    private static string Kind(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "Object",
        JsonTokenType.StartArray => "Array",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        _ => token.ToString(),
    };

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "..." : text;
}
