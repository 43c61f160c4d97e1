using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SdTune.Studio;

/// <summary>The studio's JSON: snake_case names, like the CLI's JSON output.</summary>
public static class StudioJson
{
    /// <summary>The serializer options of every request and answer.</summary>
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions());

    /// <summary>Applies the studio's settings to <paramref name="options"/>.</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        // Messages quote names ("..."): keep them readable; the answers are JSON, never embedded in HTML.
        options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }
}

/// <summary>A refused request: what is wrong and the field (or training key) it concerns.</summary>
/// <param name="Error">What is wrong.</param>
/// <param name="Field">The request field or training key; null when the request as a whole is wrong.</param>
public sealed record ApiError(string Error, string? Field);
