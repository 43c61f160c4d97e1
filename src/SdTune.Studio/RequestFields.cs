using System.Text.Json;
using System.Text.Json.Nodes;

namespace SdTune.Studio;

/// <summary>
/// Reads a JSON request's fields one by one, each mistake answered with a <see cref="StudioRequestException"/> naming its
/// field. An object inside a request field (a control of a generation, a LoRA with its weight) is read with that field as
/// its owner: its mistakes name the owner, the message starting with the inner field's name.
/// </summary>
internal sealed class RequestFields
{
    private readonly JsonObject json;
    private readonly string? owner;

    /// <summary>Reads <paramref name="body"/>, which must be an object whose fields are all among <paramref name="fields"/>.</summary>
    /// <param name="body">The object.</param>
    /// <param name="fields">The fields it may have.</param>
    /// <param name="owner">The request field the object is the value (or an item) of; null for the request's body.</param>
    /// <exception cref="StudioRequestException">The body is not an object, or has an unknown field.</exception>
    public RequestFields(JsonNode? body, IReadOnlyList<string> fields, string? owner = null)
    {
        this.owner = owner;
        json = body as JsonObject ?? throw new StudioRequestException(owner ?? "body", "expected a JSON object with " + string.Join(", ", fields) + ".");
        if (json.Select(p => p.Key).FirstOrDefault(k => !fields.Contains(k)) is { } unknown)
        {
            throw Error(unknown, "unknown field; expected " + string.Join(", ", fields) + ".");
        }
    }

    /// <summary>The raw value of a field (null when absent), for shapes read by the caller.</summary>
    public JsonNode? this[string field] => json[field];

    /// <summary>The error for <paramref name="field"/>: named after it, or after the owner with the field's name first.</summary>
    public StudioRequestException Error(string field, string message, Exception? inner = null) =>
        owner is null ? new StudioRequestException(field, message, inner) : new StudioRequestException(owner, $"{field}: {message}", inner);

    /// <summary>
    /// A number read as <typeparamref name="T"/> (int, long or double; its range is the type's), or
    /// <paramref name="fallback"/> when absent; where the value has a stricter range, the caller's validation says so.
    /// </summary>
    public T Value<T>(string field, T fallback)
        where T : struct
    {
        return json[field] is null ? fallback : Present<T>(field);
    }

    /// <summary>As <see cref="Value{T}"/>, null when absent.</summary>
    public T? Optional<T>(string field)
        where T : struct
    {
        return json[field] is null ? null : Present<T>(field);
    }

    /// <summary>A string field, or null when absent.</summary>
    public string? Text(string field) => json[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw Error(field, "expected a string."),
    };

    /// <summary>A boolean field, or <paramref name="fallback"/> when absent.</summary>
    public bool Flag(string field, bool fallback) => json[field] switch
    {
        null => fallback,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => throw Error(field, "expected true or false."),
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
            : throw Error(field, $"expected a whole number from {min} to {max}, got {json[field]!.ToJsonString()}.");
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
            : throw Error(field, $"expected a number from {min} to {max}, got {json[field]!.ToJsonString()}.");
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

        var error = Error(field, $"expected an array of 1 to {most} {what}.");
        if (json[field] is not JsonArray array || array.Count == 0 || array.Count > most)
        {
            throw error;
        }

        return [.. array.Select(item => item is JsonValue v && valid(v) ? read(v) : throw error)];
    }

    private T Present<T>(string field)
        where T : struct
    {
        try
        {
            return json[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<T>() : throw new FormatException();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
        {
            throw Error(field, $"expected a {(typeof(T) == typeof(double) ? "number" : "whole number")} in range, got {json[field]!.ToJsonString()}.", e);
        }
    }
}
