using System.Text.Json;
using System.Text.Json.Nodes;
using SdTune.IO;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// The diffusers configs of a model, kept in a single-file checkpoint's safetensors metadata under <c>sdtune.*</c> keys.
/// Shapes tell most of a Stable Diffusion model's config, but not its attention head counts, VAE scaling factor,
/// sample size or scheduler; for the published families those are the family's values, for any other model (the toy
/// world's base model, a pruned or distilled model) they are not. Other tools ignore these keys.
/// </summary>
public sealed record EmbeddedConfigs(string? Unet, string? Vae, string? TextEncoder, string? TextEncoder2, JsonObject? Scheduler)
{
    /// <summary>The metadata key of the UNet's diffusers <c>config.json</c>.</summary>
    public const string UnetKey = "sdtune.unet_config";

    /// <summary>The metadata key of the VAE's diffusers <c>config.json</c>.</summary>
    public const string VaeKey = "sdtune.vae_config";

    /// <summary>The metadata key of the (first) text encoder's transformers <c>config.json</c>.</summary>
    public const string TextEncoderKey = "sdtune.text_encoder_config";

    /// <summary>The metadata key of SDXL's second text encoder's transformers <c>config.json</c>.</summary>
    public const string TextEncoder2Key = "sdtune.text_encoder_2_config";

    /// <summary>The metadata key of the scheduler's <c>scheduler_config.json</c>.</summary>
    public const string SchedulerKey = "sdtune.scheduler_config";

    /// <summary>Whether any config is present.</summary>
    public bool Any => Unet is not null || Vae is not null || TextEncoder is not null || TextEncoder2 is not null || Scheduler is not null;

    /// <summary>The metadata entries for these configs (compact JSON), skipping absent ones.</summary>
    public Dictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string key, string? json)
        {
            if (json is not null)
            {
                metadata[key] = JsonNode.Parse(json)!.ToJsonString();
            }
        }

        Add(UnetKey, Unet);
        Add(VaeKey, Vae);
        Add(TextEncoderKey, TextEncoder);
        Add(TextEncoder2Key, TextEncoder2);
        Add(SchedulerKey, Scheduler?.ToJsonString());
        return metadata;
    }

    /// <summary>Reads the configs recorded in <paramref name="metadata"/>; absent keys stay null.</summary>
    /// <exception cref="CheckpointFormatException">A recorded config is not a JSON object.</exception>
    public static EmbeddedConfigs Read(IReadOnlyDictionary<string, string> metadata, string path)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string? Get(string key)
        {
            if (!metadata.TryGetValue(key, out var json))
            {
                return null;
            }

            try
            {
                return JsonNode.Parse(json) is JsonObject ? json : throw new CheckpointFormatException(path, $"metadata '{key}' is not a JSON object.");
            }
            catch (JsonException e)
            {
                throw new CheckpointFormatException(path, $"metadata '{key}' is not valid JSON: {e.Message}");
            }
        }

        var scheduler = Get(SchedulerKey);
        return new EmbeddedConfigs(Get(UnetKey), Get(VaeKey), Get(TextEncoderKey), Get(TextEncoder2Key), scheduler is null ? null : (JsonObject)JsonNode.Parse(scheduler)!);
    }
}
