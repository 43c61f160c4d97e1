using System.Text.Json;
using System.Text.Json.Nodes;
using SdTune.IO;

namespace SdTune.Models.Layers;

/// <summary>Helpers for reading and writing diffusers/transformers <c>config.json</c> files.</summary>
internal static class ConfigJson
{
    /// <summary>Parses config text whose root must be a JSON object (trailing commas and comments tolerated).</summary>
    /// <exception cref="CheckpointFormatException">Not valid JSON, or not an object; the message names the source.</exception>
    public static JsonDocument ParseObject(string json, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = IO.StrictJson.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(sourceName, $"not valid JSON: {e.Message}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var kind = document.RootElement.ValueKind;
            document.Dispose();
            throw new CheckpointFormatException(sourceName, $"expected a JSON object, found {kind}.");
        }

        return document;
    }

    /// <summary>The diffusers version written into <c>_diffusers_version</c>: the format these configs follow.</summary>
    public const string DiffusersVersion = "0.25.1";

    /// <summary>The transformers version written into <c>transformers_version</c>.</summary>
    public const string TransformersVersion = "4.36.2";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Write(JsonObject config) => config.ToJsonString(Indented) + "\n";

    public static JsonArray Ints(IEnumerable<int> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    public static JsonArray Doubles(IEnumerable<double> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    public static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    /// <summary>One integer when every block has the same value (as the published configs write it), else the list.</summary>
    public static JsonNode IntOrList(IReadOnlyList<int> values) =>
        values.Count > 0 && values.All(v => v == values[0]) ? JsonValue.Create(values[0]) : Ints(values);
}
