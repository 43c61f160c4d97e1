using System.Globalization;
using System.Text.Json.Nodes;
using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Pickle;
using SdTune.Checkpoints.Safetensors;
using SdTune.Checkpoints.SingleFile;
using SdTune.IO;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Text;
using SdTune.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Checkpoints;

/// <summary>
/// Original single-file Stable Diffusion checkpoints (CompVis/ldm SD 1.x and 2.x, sgm SDXL base), as A1111 and ComfyUI
/// load them: safetensors, or a <c>.ckpt</c> pickle with the weights under <c>"state_dict"</c>.
/// </summary>
/// <remarks>
/// <para>Loading derives the UNet and VAE configs from the tensor shapes (<see cref="SingleFileInspector"/>) and the
/// text encoders from the family's presets (<see cref="ClipTextConfig.ClipL"/>, <see cref="ClipTextConfig.OpenClipH"/>,
/// <see cref="ClipTextConfig.OpenClipBigG"/>) with widths, depth and vocabulary read from the shapes; the head count is
/// the width over the preset's head size (64 in every family), which shapes cannot tell. What shapes cannot tell at all
/// takes the family's published value: GroupNorm groups (32), the VAE scaling factor, sample sizes.</para>
/// <para>Models are built on the meta device and every parameter is filled straight from the file: renamed tensors are
/// read directly into the parameter; only split, merged, transposed or reshaped tensors pass through a temporary.</para>
/// <para>Saving streams the reverse conversion into the file one tensor at a time (safetensors), adding the tensors the
/// original layout has and diffusers does not (noise-schedule buffers, <c>position_ids</c>, OpenCLIP's
/// <c>logit_scale</c>). Safetensors files record the prediction type in <c>modelspec.*</c> metadata; <c>.ckpt</c> files
/// of v-prediction models carry a <c>v_pred</c> marker tensor. A <c>.ckpt</c> is assembled in memory before writing:
/// renamed tensors share the model's memory, converted ones (OpenCLIP in_proj, VAE attention, dtype changes) do not.</para>
/// </remarks>
public static class SingleFileFormat
{
    private static readonly string[] PickleExtensions = [".ckpt", ".pt", ".pth"];

    /// <summary>Loads a single-file checkpoint.</summary>
    /// <param name="path">A safetensors or PyTorch pickle file (told apart by content).</param>
    /// <param name="options">Load options; null for <see cref="ModelLoadOptions.Default"/>.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is no (supported, complete) Stable Diffusion checkpoint, or a tensor
    /// is missing, unknown or mis-shaped; the message names the file, the tensors and, where it can tell, what the file is instead.</exception>
    public static StableDiffusionModel Load(string path, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= ModelLoadOptions.Default;
        options.Validate();
        using var source = TensorSources.Open(path);
        var shapes = SingleFileInspector.ShapesOf(source);
        var detection = Detect(source, shapes);
        var notes = new List<string> { "checkpoint: " + detection.Describe() };

        var missingParts = new List<string>();
        if (!detection.Has(SdComponent.Vae))
        {
            missingParts.Add($"the VAE ('{OriginalPrefixes.Vae}*')");
        }

        if (!detection.Has(SdComponent.TextEncoder))
        {
            missingParts.Add($"the text encoder ('{OriginalPrefixes.Of(detection.Architecture, SdComponent.TextEncoder)}*')");
        }

        if (detection.Architecture == SdArchitecture.SdxlBase && !detection.Has(SdComponent.TextEncoder2))
        {
            missingParts.Add($"the second text encoder ('{OriginalPrefixes.SdxlTextEncoder2}*')");
        }

        if (missingParts.Count > 0 && detection.IsSupported)
        {
            throw new CheckpointFormatException(path, $"the {detection.Architecture} checkpoint is incomplete: it has no {string.Join(", no ", missingParts)}.");
        }

        // SD 2.x files rarely say what they predict; diffusers' single-file loader then assumes the 768-v model.
        var prediction = options.PredictionType
            ?? detection.Prediction ?? PredictionType.VPrediction;
        if (options.PredictionType is null && detection.Prediction is null)
        {
            notes.Add("the prediction type is not recorded in the file; assumed v-prediction (SD 2.x 768-v). Set ModelLoadOptions.PredictionType for 512-base models.");
        }

        detection = detection with { Prediction = prediction };
        var plan = SingleFileConversionPlan.ToDiffusers(shapes, detection, path);
        if (!options.AllowUnknownKeys)
        {
            plan.EnsureNoUnknown(path);
        }
        else if (plan.Unknown.Count > 0)
        {
            notes.Add($"{plan.Unknown.Count} tensor(s) match no conversion rule and were skipped: {string.Join(", ", plan.Unknown.Take(10))}");
        }

        if (plan.Ignored.Count > 0)
        {
            notes.Add($"{plan.Ignored.Count} tensor(s) not needed by the diffusers models were skipped (schedule buffers, EMA copies, unused layers).");
        }

        // Configs SdTune recorded when it wrote the file win over derivation (shapes cannot tell head counts, scaling factors, sizes).
        var embedded = EmbeddedConfigs.Read(source.Metadata, path);
        if (embedded.Any)
        {
            notes.Add("configs read from the file's sdtune.* metadata.");
        }

        var unetJson = embedded.Unet is { } recordedUnet ? (JsonObject)JsonNode.Parse(recordedUnet)! : SingleFileInspector.DeriveUnetConfig(shapes, detection);
        if (options.UpcastAttention is not null || embedded.Unet is null)
        {
            unetJson["upcast_attention"] = options.UpcastAttention ?? (detection.Architecture == SdArchitecture.SD2 && prediction == PredictionType.VPrediction);
        }

        var unetConfig = UNet2DConditionConfig.Parse(unetJson.ToJsonString(), path + (embedded.Unet is null ? " (derived UNet config)" : $" (metadata {EmbeddedConfigs.UnetKey})"));
        var vaeConfig = embedded.Vae is { } recordedVae
            ? AutoencoderKLConfig.Parse(recordedVae, $"{path} (metadata {EmbeddedConfigs.VaeKey})")
            : AutoencoderKLConfig.Parse(SingleFileInspector.DeriveVaeConfig(shapes, detection).ToJsonString(), path + " (derived VAE config)");
        var xl = detection.Architecture == SdArchitecture.SdxlBase;
        var textPreset = detection.Architecture == SdArchitecture.SD2 ? ClipTextConfig.OpenClipH : ClipTextConfig.ClipL;
        var textConfig = embedded.TextEncoder is { } recordedText
            ? ClipTextConfig.FromJson(recordedText, $"{path} (metadata {EmbeddedConfigs.TextEncoderKey})")
            : DeriveTextConfig(textPreset, TargetShapes(plan, SdComponent.TextEncoder), withProjection: false, path);
        var text2Config = !xl ? null : embedded.TextEncoder2 is { } recordedText2
            ? ClipTextConfig.FromJson(recordedText2, $"{path} (metadata {EmbeddedConfigs.TextEncoder2Key})")
            : DeriveTextConfig(ClipTextConfig.OpenClipBigG, TargetShapes(plan, SdComponent.TextEncoder2), withProjection: true, path);

        using var build = new BuildScope();
        var unet = build.Own(ModuleFiles.BuildEmpty(() => new UNet2DConditionModel(unetConfig), options.DType));
        var vae = build.Own(ModuleFiles.BuildEmpty(() => new AutoencoderKL(vaeConfig), options.DType));
        var text = build.Own(ModuleFiles.BuildEmpty(() => new ClipTextModel(textConfig), options.DType));
        var text2 = text2Config is null ? null : build.Own(ModuleFiles.BuildEmpty(() => new ClipTextModelWithProjection(text2Config), options.DType));
        var targets = new Dictionary<SdComponent, Dictionary<string, Tensor>>
        {
            [SdComponent.Unet] = Runtime.ModuleTensors.Of(unet),
            [SdComponent.Vae] = Runtime.ModuleTensors.Of(vae),
            [SdComponent.TextEncoder] = Runtime.ModuleTensors.Of(text),
        };
        if (text2 is not null)
        {
            targets[SdComponent.TextEncoder2] = Runtime.ModuleTensors.Of(text2);
        }

        Fill(source, plan, targets);
        var tokenizer = ClipTokenizer.CreateDefault(detection.Architecture == SdArchitecture.SD2 ? ClipPadding.Zero : ClipPadding.EndToken);
        var tokenizer2 = xl ? ClipTokenizer.CreateDefault(ClipPadding.Zero) : null;
        notes.Add("single-file checkpoints carry no tokenizer; using the CLIP vocabulary built into SdTune.");
        var result = new StableDiffusionModel(detection.Architecture, unet, vae, text, tokenizer, text2, tokenizer2,
            embedded.Scheduler ?? DefaultSchedulerConfigs.For(detection.Architecture, prediction), prediction, notes);
        build.Complete();
        return result;
    }

    /// <summary>
    /// Saves a model as an original single-file checkpoint: a <c>.ckpt</c> (also <c>.pt</c>/<c>.pth</c>) pickle with the
    /// weights under <c>"state_dict"</c>, any other extension safetensors. The file is replaced atomically.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="options">Save options (<see cref="ModelSaveOptions.DType"/>; the variant does not apply); null for the defaults.</param>
    /// <exception cref="CheckpointFormatException">A model tensor has no place in the original layout.</exception>
    public static void Save(StableDiffusionModel model, string path, ModelSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= ModelSaveOptions.Default;
        options.Validate();
        var targets = new Dictionary<SdComponent, Dictionary<string, Tensor>>
        {
            [SdComponent.Unet] = Runtime.ModuleTensors.Of(model.Unet),
            [SdComponent.Vae] = Runtime.ModuleTensors.Of(model.Vae),
            [SdComponent.TextEncoder] = Runtime.ModuleTensors.Of(model.TextEncoder),
        };
        if (model.TextEncoder2 is not null)
        {
            targets[SdComponent.TextEncoder2] = Runtime.ModuleTensors.Of(model.TextEncoder2);
        }

        var components = targets.ToDictionary(
            c => c.Key,
            c => (IReadOnlyDictionary<string, long[]>)c.Value.ToDictionary(t => t.Key, t => t.Value.shape, StringComparer.Ordinal));
        var plan = SingleFileConversionPlan.ToOriginal(model.Architecture, components);
        plan.EnsureNoUnknown("model");
        var rows = plan.Rows;

        Tensor Produce(KeyConversion row)
        {
            using var produced = KeyConversionExecutor.Produce(row, (component, name) => targets[component][name].detach());
            return ModuleFiles.ForSaving(produced, options.DType);
        }

        if (PickleExtensions.Contains(Path.GetExtension(path).ToLowerInvariant()))
        {
            var stateDict = new List<KeyValuePair<string, Tensor>>(rows.Count + 1);
            try
            {
                foreach (var row in rows)
                {
                    stateDict.Add(new(row.Target, Produce(row)));
                }

                if (model.PredictionType == PredictionType.VPrediction)
                {
                    stateDict.Add(new("v_pred", empty(0, ScalarType.Float32)));
                }

                TorchCheckpointWriter.Save(path, stateDict, "state_dict");
            }
            finally
            {
                stateDict.ForEach(t => t.Value.Dispose());
            }

            return;
        }

        var layout = rows.Select(r => new SafetensorsTensorLayout(r.Target, SafetensorsDTypes.FromScalarType(ModuleFiles.SavedType(ProducedType(r, targets), options.DType)), r.TargetShape)).ToList();
        SafetensorsWriter.Save(path, layout, i => Produce(rows[i]), Metadata(model));
    }

    private static SingleFileDetection Detect(ITensorSource source, IReadOnlyDictionary<string, long[]> shapes)
    {
        try
        {
            return SingleFileInspector.Detect(shapes, source.Metadata, source.Path);
        }
        catch (CheckpointFormatException)
        {
            var verdict = StateDictClassifier.Classify([.. source.Entries]);
            if (verdict.Kind is not (ModelFileKind.Unknown or ModelFileKind.StableDiffusionCheckpoint))
            {
                var flavour = verdict.Flavour is null ? "" : $" ({verdict.Flavour})";
                throw new CheckpointFormatException(source.Path, $"this is a {Describe(verdict.Kind)}{flavour}, not a Stable Diffusion checkpoint.");
            }

            throw;
        }
    }

    private static string Describe(ModelFileKind kind) => kind switch
    {
        ModelFileKind.Lora => "LoRA/LyCORIS network",
        ModelFileKind.Embedding => "textual-inversion embedding",
        ModelFileKind.Hypernetwork => "hypernetwork",
        ModelFileKind.ControlNet => "ControlNet",
        ModelFileKind.T2IAdapter => "T2I-Adapter",
        ModelFileKind.Unet => "UNet alone (diffusers names)",
        ModelFileKind.Vae => "VAE alone",
        ModelFileKind.TextEncoder => "text encoder alone",
        _ => kind.ToString(),
    };

    /// <summary>Checks the plan against the models, then fills every model tensor exactly once.</summary>
    private static void Fill(ITensorSource source, SingleFileConversionPlan plan, Dictionary<SdComponent, Dictionary<string, Tensor>> targets)
    {
        var problems = new List<string>();
        var filled = new Dictionary<SdComponent, HashSet<string>>();
        var rename = new List<(KeyConversion Row, Tensor Target)>();
        var converted = new List<KeyConversion>();
        foreach (var row in plan.Rows)
        {
            if (!targets.TryGetValue(row.Component, out var model) || !model.TryGetValue(row.Target, out var target))
            {
                if (!row.IsOptionalBuffer)
                {
                    problems.Add($"'{string.Join("' + '", row.Sources)}' converts to {Label(row.Component)} '{row.Target}', which the model does not have");
                }

                continue;
            }

            if (!row.TargetShape.SequenceEqual(target.shape))
            {
                problems.Add($"'{string.Join("' + '", row.Sources)}' has shape [{string.Join(", ", row.SourceShapes[0])}], giving {Label(row.Component)} '{row.Target}' [{string.Join(", ", row.TargetShape)}], but the model expects [{string.Join(", ", target.shape)}]");
                continue;
            }

            if (!filled.TryAdd(row.Component, new HashSet<string>(StringComparer.Ordinal)) && filled[row.Component].Contains(row.Target))
            {
                problems.Add($"{Label(row.Component)} '{row.Target}' is produced by more than one tensor (again from '{string.Join("' + '", row.Sources)}')");
                continue;
            }

            filled[row.Component].Add(row.Target);
            if (row.Op == KeyConversionOp.Rename)
            {
                rename.Add((row, target));
            }
            else
            {
                converted.Add(row);
            }
        }

        foreach (var (component, model) in targets)
        {
            var done = filled.GetValueOrDefault(component) ?? [];
            var missing = model.Keys.Where(n => !done.Contains(n)).ToList();
            if (missing.Count > 0)
            {
                var prefix = OriginalPrefixes.Of(plan.Architecture, component);
                problems.Add($"{missing.Count} {Label(component)} tensor(s) have no source under '{prefix}': {string.Join(", ", missing.Take(12))}{(missing.Count > 12 ? ", ..." : "")}");
            }
        }

        if (problems.Count > 0)
        {
            throw new CheckpointFormatException(source.Path, $"cannot load the {plan.Architecture} checkpoint: {string.Join("; ", problems.Take(20))}{(problems.Count > 20 ? $"; and {problems.Count - 20} more" : "")}.");
        }

        using var noGrad = no_grad();
        // Plain renames go straight from the file into the parameters. With positional reads, two readers keep
        // both cores busy with the page faults of the freshly allocated parameter memory.
        var parallelism = source.SupportsConcurrentReads ? Math.Max(1, Environment.ProcessorCount) : 1;
        Parallel.ForEach(rename, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, item => source.ReadInto(item.Row.Sources[0], item.Target));

        KeyConversionExecutor.Run(converted, source.Read, (row, tensor) =>
        {
            using (tensor)
            {
                targets[row.Component][row.Target].copy_(tensor);
            }
        });
    }

    /// <summary>Target name → shape of one component's rows (what the diffusers model must look like).</summary>
    private static Dictionary<string, long[]> TargetShapes(SingleFileConversionPlan plan, SdComponent component) =>
        plan.RowsOf(component).GroupBy(r => r.Target, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().TargetShape.ToArray(), StringComparer.Ordinal);

    /// <summary>A text encoder config: the family preset with the sizes the tensors show.</summary>
    private static ClipTextConfig DeriveTextConfig(ClipTextConfig preset, Dictionary<string, long[]> shapes, bool withProjection, string path)
    {
        long[] Shape(string name) => shapes.TryGetValue(name, out var shape)
            ? shape
            : throw new CheckpointFormatException(path, $"the text encoder tensor that becomes '{name}' is missing, so its config cannot be derived");

        var tokens = Shape("text_model.embeddings.token_embedding.weight");
        var hidden = (int)tokens[1];
        if (hidden % preset.HeadDim != 0)
        {
            throw new CheckpointFormatException(path, $"the text encoder is {hidden} wide, which is not a multiple of the {preset.HeadDim}-wide attention heads of its family, so its head count cannot be derived");
        }

        var layers = shapes.Keys
            .Select(n => n.StartsWith("text_model.encoder.layers.", StringComparison.Ordinal) ? n["text_model.encoder.layers.".Length..].Split('.')[0] : null)
            .Where(n => n is not null)
            .Select(n => int.Parse(n!, NumberStyles.None, CultureInfo.InvariantCulture))
            .Distinct().Count();
        return preset with
        {
            VocabSize = (int)tokens[0],
            HiddenSize = hidden,
            NumAttentionHeads = hidden / preset.HeadDim,
            IntermediateSize = (int)Shape("text_model.encoder.layers.0.mlp.fc1.weight")[0],
            NumHiddenLayers = layers,
            MaxPositionEmbeddings = (int)Shape("text_model.embeddings.position_embedding.weight")[0],
            ProjectionDim = withProjection ? (int)Shape("text_projection.weight")[0] : preset.ProjectionDim,
        };
    }

    private static ScalarType ProducedType(KeyConversion row, Dictionary<SdComponent, Dictionary<string, Tensor>> targets) =>
        row.Op == KeyConversionOp.Generate
            ? row.Target.EndsWith("position_ids", StringComparison.Ordinal) ? ScalarType.Int64 : ScalarType.Float32
            : targets[row.Component][row.Sources[0]].dtype;

    /// <summary>
    /// Stability AI's model-spec keys, which <see cref="SingleFileInspector"/> reads back for the prediction type, and the
    /// model's configs (<see cref="EmbeddedConfigs"/>), so that what SdTune writes it reads back exactly.
    /// </summary>
    private static Dictionary<string, string> Metadata(StableDiffusionModel model)
    {
        var v = model.PredictionType == PredictionType.VPrediction;
        var configs = new EmbeddedConfigs(model.Unet.Config.ToJson(), model.Vae.Config.ToJson(), model.TextEncoder.Config.ToJson(),
            model.TextEncoder2?.Config.ToJson(withProjection: true), model.SchedulerConfig);
        var metadata = new Dictionary<string, string>(configs.ToMetadata())
        {
            ["modelspec.sai_model_spec"] = "1.0.0",
            ["modelspec.architecture"] = model.Architecture switch
            {
                SdArchitecture.SD1 => "stable-diffusion-v1",
                SdArchitecture.SD2 => v ? "stable-diffusion-v2-768-v" : "stable-diffusion-v2-512",
                _ => "stable-diffusion-xl-v1-base",
            },
            ["modelspec.prediction_type"] = v ? "v" : "epsilon",
            ["modelspec.resolution"] = string.Create(CultureInfo.InvariantCulture, $"{model.DefaultImageSize}x{model.DefaultImageSize}"),
        };
        return metadata;
    }

    private static string Label(SdComponent component) => component switch
    {
        SdComponent.Unet => "unet",
        SdComponent.Vae => "vae",
        SdComponent.TextEncoder => "text_encoder",
        SdComponent.TextEncoder2 => "text_encoder_2",
        _ => "wrapper",
    };
}
