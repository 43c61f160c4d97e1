using System.Text.Json;
using System.Text.Json.Nodes;
using SdTune.IO;

namespace SdTune.Adapters.Formats;

/// <summary>
/// The <c>lora_adapter_metadata</c> safetensors metadata entry that diffusers' <c>save_lora_weights</c> writes beside
/// PEFT tensors and <c>load_lora_weights</c> uses as the PEFT <c>LoraConfig</c> of each model: one JSON object whose keys
/// are the config's fields prefixed with the model (<c>unet.r</c>, <c>unet.lora_alpha</c>, <c>unet.alpha_pattern</c>,
/// <c>text_encoder.target_modules</c>, ...). PEFT files carry no per-module alpha tensor; this entry is where alpha lives:
/// <c>lora_alpha</c> for most modules, <c>alpha_pattern</c> (module path → alpha) and <c>rank_pattern</c> for the others.
/// </summary>
public sealed class PeftAdapterMetadata
{
    /// <summary>The safetensors metadata key.</summary>
    public const string Key = "lora_adapter_metadata";

    private readonly Dictionary<string, JsonNode?> fields;
    private readonly string path;

    private PeftAdapterMetadata(Dictionary<string, JsonNode?> fields, string path)
    {
        this.fields = fields;
        this.path = path;
    }

    /// <summary>The module-name prefix diffusers gives each model's keys and config fields.</summary>
    public static string Prefix(LoraComponent component) => component switch
    {
        LoraComponent.Unet => "unet",
        LoraComponent.TextEncoder => "text_encoder",
        LoraComponent.TextEncoder2 => "text_encoder_2",
        _ => throw new ArgumentOutOfRangeException(nameof(component)),
    };

    /// <summary>Reads the entry from a file's metadata; null when the file has none.</summary>
    /// <exception cref="CheckpointFormatException">The entry is not a JSON object.</exception>
    public static PeftAdapterMetadata? Read(IReadOnlyDictionary<string, string> metadata, string path)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue(Key, out var json))
        {
            return null;
        }

        try
        {
            if (StrictJson.ParseNode(json) is JsonObject root)
            {
                return new PeftAdapterMetadata(root.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), path);
            }
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"metadata '{Key}' is not valid JSON: {e.Message}");
        }

        throw new CheckpointFormatException(path, $"metadata '{Key}' is not a JSON object.");
    }

    /// <summary>
    /// The alpha of the module at <paramref name="modulePath"/> of <paramref name="component"/>, as PEFT resolves it: the
    /// first <c>alpha_pattern</c> key equal to the path or ending it after a dot, else <c>lora_alpha</c>; null when the
    /// entry configures no alpha for that model.
    /// </summary>
    /// <exception cref="CheckpointFormatException">An alpha in the entry is not a number.</exception>
    public double? AlphaOf(LoraComponent component, string modulePath)
    {
        ArgumentNullException.ThrowIfNull(modulePath);
        var prefix = Prefix(component) + ".";
        if (fields.GetValueOrDefault(prefix + "alpha_pattern") is JsonObject pattern)
        {
            foreach (var (key, value) in pattern)
            {
                if (modulePath == key || modulePath.EndsWith("." + key, StringComparison.Ordinal))
                {
                    return Number(value, prefix + "alpha_pattern." + key);
                }
            }
        }

        return fields.GetValueOrDefault(prefix + "lora_alpha") is { } alpha ? Number(alpha, prefix + "lora_alpha") : null;
    }

    /// <summary>
    /// The entry for a set of LoRA modules as diffusers writes it (indented, keys sorted): per model, the most common rank
    /// and alpha as <c>r</c>/<c>lora_alpha</c>, the others in <c>rank_pattern</c>/<c>alpha_pattern</c> by module path, and
    /// every module path in <c>target_modules</c>.
    /// </summary>
    public static string Write(IEnumerable<(LoraComponent Component, string ModulePath, int Rank, double Alpha)> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var root = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var group in modules.GroupBy(m => m.Component))
        {
            var prefix = Prefix(group.Key) + ".";
            var list = group.ToList();
            var rank = MostCommon(list.Select(m => m.Rank));
            var alpha = MostCommon(list.Select(m => m.Alpha));
            root[prefix + "r"] = rank;
            root[prefix + "lora_alpha"] = alpha;
            root[prefix + "rank_pattern"] = Pattern(list.Where(m => m.Rank != rank).Select(m => (m.ModulePath, JsonValue.Create(m.Rank))));
            root[prefix + "alpha_pattern"] = Pattern(list.Where(m => !m.Alpha.Equals(alpha)).Select(m => (m.ModulePath, JsonValue.Create(m.Alpha))));
            root[prefix + "target_modules"] = new JsonArray([.. list.Select(m => (JsonNode?)m.ModulePath).Order(Comparer<JsonNode?>.Create((a, b) => string.CompareOrdinal((string?)a, (string?)b)))]);
        }

        var json = new JsonObject();
        foreach (var (key, value) in root)
        {
            json[key] = value;
        }

        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject Pattern(IEnumerable<(string Path, JsonValue Value)> entries)
    {
        var pattern = new JsonObject();
        foreach (var (path, value) in entries.OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            pattern[path] = value;
        }

        return pattern;
    }

    // The most frequent value; ties go to the value seen first.
    private static T MostCommon<T>(IEnumerable<T> values)
        where T : notnull =>
        values.Select((v, i) => (v, i)).GroupBy(x => x.v).OrderByDescending(g => g.Count()).ThenBy(g => g.First().i).First().Key;

    private double Number(JsonNode? node, string field) =>
        node is JsonValue value && value.TryGetValue(out double number) && double.IsFinite(number)
            ? number
            : throw new CheckpointFormatException(path, $"metadata '{Key}': '{field}' is not a number.");
}
