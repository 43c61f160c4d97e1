using System.Text.Json;
using System.Text.Json.Nodes;

namespace SdTune.Studio.Compare;

/// <summary>Reads a JSON request's fields one by one, each mistake answered with a <see cref="StudioRequestException"/> naming its field.</summary>
internal sealed class RequestFields
{
    private readonly JsonObject json;

    /// <summary>Reads <paramref name="body"/>, which must be an object whose fields are all among <paramref name="fields"/>.</summary>
    /// <exception cref="StudioRequestException">The body is not an object, or has an unknown field.</exception>
    public RequestFields(JsonNode? body, IReadOnlyList<string> fields)
    {
        json = body as JsonObject ?? throw new StudioRequestException("body", "expected a JSON object with " + string.Join(", ", fields) + ".");
        if (json.Select(p => p.Key).FirstOrDefault(k => !fields.Contains(k)) is { } unknown)
        {
            throw new StudioRequestException(unknown, "unknown field; expected " + string.Join(", ", fields) + ".");
        }
    }

    /// <summary>A string field, or null when absent.</summary>
    public string? Text(string field) => json[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new StudioRequestException(field, "expected a string."),
    };

    /// <summary>A boolean field, or <paramref name="fallback"/> when absent.</summary>
    public bool Flag(string field, bool fallback) => json[field] switch
    {
        null => fallback,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw new StudioRequestException(field, "expected true or false."),
    };

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, or <paramref name="fallback"/> when absent.</summary>
    public long Integer(string field, long fallback, long min, long max)
    {
        if (json[field] is null)
        {
            return fallback;
        }

        return json[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) && n >= min && n <= max
            ? n
            : throw new StudioRequestException(field, $"expected a whole number from {min} to {max}, got {json[field]!.ToJsonString()}.");
    }

    /// <summary>A number from <paramref name="min"/> to <paramref name="max"/>, or <paramref name="fallback"/> when absent.</summary>
    public double Number(string field, double fallback, double min, double max)
    {
        if (json[field] is null)
        {
            return fallback;
        }

        return json[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.GetValue<double>() is var d && d >= min && d <= max
            ? d
            : throw new StudioRequestException(field, $"expected a number from {min} to {max}, got {json[field]!.ToJsonString()}.");
    }

    /// <summary>An array of 1 to <paramref name="most"/> non-empty strings, or null when absent.</summary>
    public IReadOnlyList<string>? Texts(string field, int most) =>
        List(field, most, v => v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Length > 0, v => v.GetValue<string>(), "non-empty strings");

    /// <summary>An array of 1 to <paramref name="most"/> numbers from <paramref name="min"/> to <paramref name="max"/>, or null when absent.</summary>
    public IReadOnlyList<double>? Numbers(string field, int most, double min, double max) =>
        List(field, most, v => v.GetValueKind() == JsonValueKind.Number && v.GetValue<double>() is var d && d >= min && d <= max, v => v.GetValue<double>(), $"numbers from {min} to {max}");

    private IReadOnlyList<T>? List<T>(string field, int most, Func<JsonValue, bool> valid, Func<JsonValue, T> read, string what)
    {
        if (json[field] is null)
        {
            return null;
        }

        var error = new StudioRequestException(field, $"expected an array of 1 to {most} {what}.");
        if (json[field] is not JsonArray array || array.Count == 0 || array.Count > most)
        {
            throw error;
        }

        return [.. array.Select(item => item is JsonValue v && valid(v) ? read(v) : throw error)];
    }
}
