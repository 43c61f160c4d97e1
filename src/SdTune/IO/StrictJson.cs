using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SdTune.IO;

/// <summary>
/// JSON read from files SdTune did not write (model configs, tokenizer files, shard indexes, safetensors headers):
/// every string and property name must be valid Unicode. System.Text.Json parses an escaped lone UTF-16 surrogate
/// (<c>"\udc80"</c>, or <c>"\ud800\u0041"</c>) without complaint and only throws <see cref="InvalidOperationException"/>
/// later, when the string is read; here such input fails at parse time with a <see cref="JsonException"/> that says
/// where, like any other malformed JSON (serde_json, which the reference safetensors reader uses, refuses it too).
/// </summary>
internal static class StrictJson
{
    /// <summary>Parses <paramref name="json"/> and checks every string in it.</summary>
    /// <exception cref="JsonException">Malformed JSON, or a string holding a lone surrogate escape.</exception>
    public static JsonDocument Parse(string json, JsonDocumentOptions options = default) => Checked(JsonDocument.Parse(json, options), uniqueNames: false);

    /// <summary>Parses UTF-8 JSON from <paramref name="utf8Json"/> and checks every string in it.</summary>
    /// <exception cref="JsonException">Malformed JSON, or a string holding a lone surrogate escape.</exception>
    public static JsonDocument Parse(Stream utf8Json, JsonDocumentOptions options = default) => Checked(JsonDocument.Parse(utf8Json, options), uniqueNames: false);

    /// <summary>Parses UTF-8 JSON bytes and checks every string in them.</summary>
    /// <exception cref="JsonException">Malformed JSON, or a string holding a lone surrogate escape.</exception>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8Json, JsonDocumentOptions options = default) => Checked(JsonDocument.Parse(utf8Json, options), uniqueNames: false);

    /// <summary>
    /// Parses <paramref name="json"/> as a mutable node tree after checking every string in it, and that no object
    /// repeats a property name (a <see cref="JsonObject"/> would throw <see cref="ArgumentException"/> on first use).
    /// </summary>
    /// <exception cref="JsonException">Malformed JSON, a string holding a lone surrogate escape, or a repeated name.</exception>
    public static JsonNode? ParseNode(string json)
    {
        using (Checked(JsonDocument.Parse(json), uniqueNames: true))
        {
            return JsonNode.Parse(json);
        }
    }

    /// <summary>
    /// The current string or property-name token of <paramref name="reader"/>, or null when it holds an escaped lone
    /// surrogate (then <paramref name="escape"/> is that escape, e.g. <c>\udc80</c>).
    /// </summary>
    public static string? TryGetString(ref Utf8JsonReader reader, out string escape)
    {
        escape = "";
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException) when (reader.ValueIsEscaped)
        {
            escape = FindLoneSurrogateEscape(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan) ?? "\\u....";
            return null;
        }
    }

    /// <summary>The first <c>\uXXXX</c> escape of raw JSON text that is a UTF-16 surrogate without its partner, or null.</summary>
    public static string? FindLoneSurrogateEscape(ReadOnlySpan<byte> raw)
    {
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] != (byte)'\\' || i + 1 >= raw.Length)
            {
                continue;
            }

            if (raw[i + 1] != (byte)'u' || !TryHex(raw, i + 2, out var unit))
            {
                i++; // a two-character escape such as \" or \\: skip its second character
                continue;
            }

            if (char.IsLowSurrogate((char)unit))
            {
                return Encoding.ASCII.GetString(raw.Slice(i, 6));
            }

            if (char.IsHighSurrogate((char)unit))
            {
                if (i + 12 <= raw.Length && raw[i + 6] == (byte)'\\' && raw[i + 7] == (byte)'u' && TryHex(raw, i + 8, out var next) && char.IsLowSurrogate((char)next))
                {
                    i += 11;
                    continue;
                }

                return Encoding.ASCII.GetString(raw.Slice(i, 6));
            }

            i += 5;
        }

        return null;
    }

    private static bool TryHex(ReadOnlySpan<byte> raw, int start, out int value)
    {
        value = 0;
        if (start + 4 > raw.Length || !Utf8Parser.TryParse(raw.Slice(start, 4), out ushort unit, out var consumed, 'X') || consumed != 4)
        {
            return false;
        }

        value = unit;
        return true;
    }

    private static JsonDocument Checked(JsonDocument document, bool uniqueNames)
    {
        try
        {
            CheckStrings(document.RootElement, "$", uniqueNames);
            return document;
        }
        catch
        {
            document.Dispose();
            throw;
        }
    }

    // Depth is bounded by the parser's MaxDepth (64 unless a caller raises it).
    private static void CheckStrings(JsonElement element, string path, bool uniqueNames)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = uniqueNames ? new HashSet<string>(StringComparer.Ordinal) : null;
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        throw LoneSurrogate($"a property name in {path}", element);
                    }

                    if (names is not null && !names.Add(name))
                    {
                        throw new JsonException($"{path} has the property '{name}' twice.");
                    }

                    CheckStrings(property.Value, path + "." + name, uniqueNames);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    CheckStrings(item, $"{path}[{index++}]", uniqueNames);
                }

                break;
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                }
                catch (InvalidOperationException)
                {
                    throw LoneSurrogate($"the string at {path}", element);
                }

                break;
        }
    }

    private static JsonException LoneSurrogate(string where, JsonElement container)
    {
        var escape = FindLoneSurrogateEscape(Encoding.UTF8.GetBytes(container.GetRawText())) ?? "\\u....";
        return new JsonException($"{where} holds the escape {escape}, a lone UTF-16 surrogate, which is not valid Unicode.");
    }
}
