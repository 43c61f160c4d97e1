using System.Text.Json;
using System.Text.Json.Nodes;
using SdTune.IO;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Text;
using SdTune.Runtime;

namespace SdTune.Checkpoints;

/// <summary>
/// Stable Diffusion pipelines in the diffusers folder layout (<c>DiffusionPipeline.save_pretrained</c>):
/// <c>model_index.json</c>, <c>scheduler/</c>, <c>text_encoder/</c>, <c>tokenizer/</c>, <c>unet/</c>, <c>vae/</c>, and for
/// SDXL <c>text_encoder_2/</c> and <c>tokenizer_2/</c>. Each model folder holds <c>config.json</c> and its weights:
/// safetensors or legacy <c>.bin</c>, whole or sharded (<c>*.index.json</c>), plain or as a variant such as
/// <c>*.fp16.safetensors</c>. <c>safety_checker</c> and <c>feature_extractor</c> are not used.
/// </summary>
public static class DiffusersPipelineFormat
{
    /// <summary>The pipeline's index file.</summary>
    public const string ModelIndexFile = "model_index.json";

    private const string SdPipeline = "StableDiffusionPipeline";
    private const string SdxlPipeline = "StableDiffusionXLPipeline";
    private const string DiffusersWeights = "diffusion_pytorch_model";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Loads a pipeline folder.</summary>
    /// <param name="folder">The folder holding <c>model_index.json</c>.</param>
    /// <param name="options">Load options; null for <see cref="ModelLoadOptions.Default"/>.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The folder is not a Stable Diffusion pipeline, a component is missing
    /// (all missing parts are listed), or a config or weight file is invalid; the message names the folder or file.</exception>
    public static StableDiffusionModel Load(string folder, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= ModelLoadOptions.Default;
        options.Validate();
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"{folder}: folder not found.");
        }

        var indexPath = Path.Combine(folder, ModelIndexFile);
        if (!File.Exists(indexPath))
        {
            throw new CheckpointFormatException(folder, $"not a diffusers pipeline folder: there is no {ModelIndexFile}.");
        }

        var index = ReadObject(indexPath);
        var pipelineClass = index["_class_name"]?.GetValueKind() == JsonValueKind.String ? index["_class_name"]!.GetValue<string>() : null;
        var xl = pipelineClass?.StartsWith("StableDiffusionXL", StringComparison.Ordinal) == true;
        if (pipelineClass is null || !pipelineClass.StartsWith("StableDiffusion", StringComparison.Ordinal))
        {
            throw new CheckpointFormatException(indexPath, $"the pipeline class is '{pipelineClass ?? "(none)"}', not a Stable Diffusion pipeline ({SdPipeline} or {SdxlPipeline}).");
        }

        if (xl && index["text_encoder"] is JsonArray { Count: 2 } declared && declared[0] is null)
        {
            throw new CheckpointFormatException(indexPath, "this SDXL pipeline has no first text encoder: it is an SDXL refiner, which is not supported.");
        }

        // Find every part first, so one error lists everything that is missing.
        var missing = new List<string>();
        var notes = new List<string>();
        string Config(string component, string file = "config.json")
        {
            var path = Path.Combine(folder, component, file);
            if (!File.Exists(path))
            {
                missing.Add($"{component}/{file}");
            }

            return path;
        }

        string Weights(string component, bool transformers)
        {
            var found = FindWeights(Path.Combine(folder, component), transformers, options.Variant, out var hint);
            if (found is null)
            {
                missing.Add($"{component}/ weights ({hint})");
            }

            return found ?? "";
        }

        var unetConfigPath = Config("unet");
        var unetWeights = Weights("unet", transformers: false);
        var vaeConfigPath = Config("vae");
        var vaeWeights = Weights("vae", transformers: false);
        var textConfigPath = Config("text_encoder");
        var textWeights = Weights("text_encoder", transformers: true);
        var schedulerPath = Config("scheduler", "scheduler_config.json");
        string? text2ConfigPath = null, text2Weights = null;
        if (xl)
        {
            text2ConfigPath = Config("text_encoder_2");
            text2Weights = Weights("text_encoder_2", transformers: true);
        }

        if (missing.Count > 0)
        {
            throw new CheckpointFormatException(folder, $"incomplete {pipelineClass} folder: missing {string.Join("; ", missing)}.");
        }

        var unetConfig = UNet2DConditionConfig.Load(unetConfigPath);
        var vaeConfig = AutoencoderKLConfig.Load(vaeConfigPath);
        var textConfig = ClipTextConfig.FromJsonFile(textConfigPath);
        var text2Config = text2ConfigPath is null ? null : ClipTextConfig.FromJsonFile(text2ConfigPath);
        var schedulerConfig = ReadObject(schedulerPath);

        // SD 1.x conditions on OpenAI CLIP (quick_gelu), SD 2.x on OpenCLIP (gelu); the widths may be anything.
        var architecture = xl ? SdArchitecture.SdxlBase : textConfig.HiddenAct == ClipActivation.Gelu ? SdArchitecture.SD2 : SdArchitecture.SD1;
        var prediction = options.PredictionType ?? PredictionFromScheduler(schedulerConfig, schedulerPath);
        if (options.UpcastAttention is { } upcast)
        {
            unetConfig = unetConfig with { UpcastAttention = upcast };
        }

        var tokenizer = LoadTokenizer(folder, "tokenizer", architecture == SdArchitecture.SD2 ? ClipPadding.Zero : ClipPadding.EndToken, notes);
        var tokenizer2 = xl ? LoadTokenizer(folder, "tokenizer_2", ClipPadding.Zero, notes) : null;

        using var build = new BuildScope();
        var unet = build.Own(ModuleFiles.Load(() => new UNet2DConditionModel(unetConfig), unetWeights, options.DType));
        var vae = build.Own(ModuleFiles.Load(() => new AutoencoderKL(vaeConfig), vaeWeights, options.DType));
        var text = build.Own(ModuleFiles.Load(() => new ClipTextModel(textConfig), textWeights, options.DType, ClipTextEncoder.IsIgnorableKey));
        var text2 = text2Config is null ? null
            : build.Own(ModuleFiles.Load(() => new ClipTextModelWithProjection(text2Config), text2Weights!, options.DType, ClipTextEncoder.IsIgnorableKey));
        var result = new StableDiffusionModel(architecture, unet, vae, text, tokenizer, text2, tokenizer2, schedulerConfig, prediction, notes);
        build.Complete();
        return result;
    }

    /// <summary>
    /// Saves a model as a pipeline folder. Everything is written to a temporary sibling folder first, which then
    /// replaces <paramref name="folder"/>: an existing folder is never left half-written, and if saving fails it is
    /// left as it was. (A crash between the two renames leaves the previous content in a hidden
    /// <c>.name.old-*</c> sibling.)
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="folder">The pipeline folder to create or replace.</param>
    /// <param name="options">Save options; null for <see cref="ModelSaveOptions.Default"/>.</param>
    public static void Save(StableDiffusionModel model, string folder, ModelSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= ModelSaveOptions.Default;
        options.Validate();
        AtomicFolder.Write(folder, staging => WriteFolder(model, staging, options));
    }

    private static void WriteFolder(StableDiffusionModel model, string folder, ModelSaveOptions options)
    {
        var xl = model.Architecture == SdArchitecture.SdxlBase;
        var schedulerClass = model.SchedulerConfig["_class_name"]?.GetValueKind() == JsonValueKind.String
            ? model.SchedulerConfig["_class_name"]!.GetValue<string>()
            : "PNDMScheduler";
        var index = new JsonObject
        {
            ["_class_name"] = xl ? SdxlPipeline : SdPipeline,
            ["_diffusers_version"] = Models.Layers.ConfigJson.DiffusersVersion,
        };
        if (xl)
        {
            index["force_zeros_for_empty_prompt"] = true;
        }
        else
        {
            index["feature_extractor"] = new JsonArray(null, null);
            index["requires_safety_checker"] = false;
            index["safety_checker"] = new JsonArray(null, null);
        }

        index["scheduler"] = new JsonArray("diffusers", schedulerClass);
        index["text_encoder"] = new JsonArray("transformers", "CLIPTextModel");
        if (xl)
        {
            index["text_encoder_2"] = new JsonArray("transformers", "CLIPTextModelWithProjection");
        }

        index["tokenizer"] = new JsonArray("transformers", "CLIPTokenizer");
        if (xl)
        {
            index["tokenizer_2"] = new JsonArray("transformers", "CLIPTokenizer");
        }

        index["unet"] = new JsonArray("diffusers", "UNet2DConditionModel");
        index["vae"] = new JsonArray("diffusers", "AutoencoderKL");
        AtomicFile.WriteAllText(Path.Combine(folder, ModelIndexFile), index.ToJsonString(Indented) + "\n");

        var suffix = options.Variant is null ? "" : "." + options.Variant;
        AtomicFile.WriteAllText(Path.Combine(folder, "scheduler", "scheduler_config.json"), model.SchedulerConfig.ToJsonString(Indented) + "\n");
        WriteModel(folder, "text_encoder", model.TextEncoder.Config.ToJson(), model.TextEncoder, $"model{suffix}.safetensors", options);
        model.Tokenizer.SaveTo(Path.Combine(folder, "tokenizer"));
        if (xl)
        {
            WriteModel(folder, "text_encoder_2", model.TextEncoder2!.Config.ToJson(withProjection: true), model.TextEncoder2, $"model{suffix}.safetensors", options);
            model.Tokenizer2!.SaveTo(Path.Combine(folder, "tokenizer_2"));
        }

        WriteModel(folder, "unet", model.Unet.Config.ToJson(), model.Unet, $"{DiffusersWeights}{suffix}.safetensors", options);
        WriteModel(folder, "vae", model.Vae.Config.ToJson(), model.Vae, $"{DiffusersWeights}{suffix}.safetensors", options);
    }

    internal static void WriteModel(string folder, string component, string configJson, TorchSharp.torch.nn.Module module, string weightsFile, ModelSaveOptions options)
    {
        var dir = Path.Combine(folder, component);
        AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), configJson);
        // What diffusers' and transformers' save_pretrained write; some transformers versions refuse files without it.
        ModuleFiles.SaveSafetensors(module, Path.Combine(dir, weightsFile), options.DType, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>
    /// The weight file of a model folder, in diffusers' order of preference: safetensors before .bin, a whole file
    /// before a shard index. With a variant only that variant's files count, as in diffusers.
    /// </summary>
    internal static string? FindWeights(string folder, bool transformers, string? variant, out string hint)
    {
        var safetensorsBase = transformers ? "model" : DiffusersWeights;
        var binBase = transformers ? "pytorch_model" : DiffusersWeights;
        string[] Candidates(string? v) => v is null
            ? [$"{safetensorsBase}.safetensors", $"{safetensorsBase}.safetensors.index.json", $"{binBase}.bin", $"{binBase}.bin.index.json"]
            : [$"{safetensorsBase}.{v}.safetensors", $"{safetensorsBase}.safetensors.index.{v}.json", $"{binBase}.{v}.bin", $"{binBase}.bin.index.{v}.json"];

        var candidates = Candidates(variant);
        hint = $"none of {string.Join(", ", candidates)}";
        if (!Directory.Exists(folder))
        {
            hint = "the folder does not exist";
            return null;
        }

        var found = candidates.Select(c => Path.Combine(folder, c)).FirstOrDefault(File.Exists);
        if (found is null && variant is null)
        {
            var variants = Directory.EnumerateFiles(folder, safetensorsBase + ".*.safetensors")
                .Concat(Directory.EnumerateFiles(folder, binBase + ".*.bin"))
                .Select(f => Path.GetFileName(f).Split('.')[^2])
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            if (variants.Count > 0)
            {
                hint += $"; only the variant(s) {string.Join(", ", variants.Select(v => "'" + v + "'"))} are present: load with that Variant";
            }
        }

        return found;
    }

    private static ClipTokenizer LoadTokenizer(string folder, string component, ClipPadding fallbackPadding, List<string> notes)
    {
        var dir = Path.Combine(folder, component);
        if (File.Exists(Path.Combine(dir, "vocab.json")) && File.Exists(Path.Combine(dir, "merges.txt")))
        {
            try
            {
                return ClipTokenizer.FromTransformersFolder(dir);
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointFormatException(dir, $"invalid tokenizer: {e.Message}");
            }
        }

        notes.Add($"{component}/ has no vocab.json and merges.txt; using the CLIP vocabulary built into SdTune (padding {fallbackPadding}).");
        return ClipTokenizer.CreateDefault(fallbackPadding);
    }

    private static PredictionType PredictionFromScheduler(JsonObject scheduler, string path)
    {
        var node = scheduler["prediction_type"];
        if (node is null)
        {
            return PredictionType.Epsilon; // the diffusers schedulers' default
        }

        var text = node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();
        return PredictionTypes.FromDiffusers(text)
            ?? throw new CheckpointFormatException(path, $"config field 'prediction_type' is '{text}'; supported: 'epsilon', 'v_prediction'.");
    }

    private static JsonObject ReadObject(string path)
    {
        try
        {
            return StrictJson.ParseNode(File.ReadAllText(path)) as JsonObject
                ?? throw new CheckpointFormatException(path, "expected a JSON object.");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"not valid JSON: {e.Message}");
        }
    }
}
