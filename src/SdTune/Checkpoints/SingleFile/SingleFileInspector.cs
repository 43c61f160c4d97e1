using System.Globalization;
using System.Text.Json.Nodes;
using SdTune.IO;
using SdTune.Models;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// Recognises an original single-file Stable Diffusion checkpoint (CompVis/ldm for SD 1.x/2.x, sgm for SDXL) from its
/// tensor names and shapes, and derives the diffusers <c>config.json</c> values of its UNet and VAE from the shapes.
/// </summary>
/// <remarks>
/// Epsilon vs v-prediction cannot be read from shapes: SD 2.x 512-base (epsilon) and 768-v (v-prediction) have
/// identical tensors. The prediction type is taken from a hint in the file when there is one — safetensors metadata
/// <c>modelspec.prediction_type</c> (<c>v</c>/<c>epsilon</c>), <c>modelspec.architecture</c>
/// (<c>stable-diffusion-v2-768-v</c>/<c>-v2-512</c>), kohya's <c>ss_v_parameterization</c>, or a <c>v_pred</c> marker
/// tensor — and otherwise is <see cref="PredictionType.Epsilon"/> for SD 1.x and SDXL (their released weights) and
/// unknown (null) for SD 2.x, which the user must then state.
/// </remarks>
public static class SingleFileInspector
{
    private const string UnetProbe = OriginalPrefixes.Unet + "input_blocks.0.0.weight";
    private const string LabelEmbedding = OriginalPrefixes.Unet + "label_emb.0.0.weight";

    /// <summary>Detects the family of an opened checkpoint (names, shapes and metadata; no tensor is read).</summary>
    /// <exception cref="CheckpointFormatException">The file is not an original Stable Diffusion checkpoint.</exception>
    public static SingleFileDetection Detect(ITensorSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Detect(ShapesOf(source), source.Metadata, source.Path);
    }

    /// <summary>Name → shape of every tensor of a source, in stored order.</summary>
    public static IReadOnlyDictionary<string, long[]> ShapesOf(ITensorSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var shapes = new Dictionary<string, long[]>(source.Entries.Count, StringComparer.Ordinal);
        foreach (var entry in source.Entries)
        {
            shapes.Add(entry.Name, [.. entry.Shape]);
        }

        return shapes;
    }

    /// <summary>Detects the family of a checkpoint from its tensor names and shapes.</summary>
    /// <param name="shapes">Every tensor name of the file with its shape.</param>
    /// <param name="metadata">The safetensors <c>__metadata__</c>, if any (prediction-type hints).</param>
    /// <param name="source">The file name, for error messages.</param>
    /// <exception cref="CheckpointFormatException">The names are not those of an original Stable Diffusion checkpoint,
    /// or the UNet and text encoders contradict each other.</exception>
    public static SingleFileDetection Detect(IReadOnlyDictionary<string, long[]> shapes, IReadOnlyDictionary<string, string>? metadata = null, string source = "checkpoint")
    {
        ArgumentNullException.ThrowIfNull(shapes);
        if (!shapes.TryGetValue(UnetProbe, out var convIn) || convIn.Length != 4)
        {
            throw new CheckpointFormatException(source, NotStableDiffusionMessage(shapes));
        }

        var contextDim = CrossAttentionDim(shapes)
            ?? throw new CheckpointFormatException(source, $"the UNet under '{OriginalPrefixes.Unet}' has no cross-attention (no '*.attn2.to_k.weight'), so it is no text-conditioned Stable Diffusion UNet");
        bool HasPrefix(string prefix) => shapes.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));
        var sd1Clip = HasPrefix(OriginalPrefixes.Sd1TextEncoder);
        var sd2Clip = HasPrefix(OriginalPrefixes.Sd2TextEncoder);
        var xlClip = HasPrefix(OriginalPrefixes.SdxlTextEncoder);
        var xlBigG = HasPrefix(OriginalPrefixes.SdxlTextEncoder2);
        var refinerBigG = HasPrefix(OriginalPrefixes.SdxlRefinerTextEncoder);
        var labelEmbedding = shapes.ContainsKey(LabelEmbedding);
        string? unsupported = null;

        SdArchitecture architecture;
        if (refinerBigG || (contextDim == 1280 && labelEmbedding))
        {
            architecture = SdArchitecture.SdxlRefiner;
            unsupported = "SDXL refiner checkpoints (OpenCLIP bigG as the only text encoder, cross-attention 1280, aesthetic-score conditioning) are not supported; use an SDXL base model";
        }
        else if (xlBigG || xlClip || contextDim == 2048)
        {
            architecture = SdArchitecture.SdxlBase;
            Require(contextDim == 2048, $"the SDXL text encoders are present but the UNet cross-attention width is {contextDim}, not 2048");
            Require(labelEmbedding, $"an SDXL UNet needs the size/crop embedding '{LabelEmbedding}', which is missing");
        }
        else if (sd2Clip || contextDim == 1024)
        {
            architecture = SdArchitecture.SD2;
            Require(contextDim == 1024, $"the OpenCLIP ViT-H text encoder ('{OriginalPrefixes.Sd2TextEncoder}') is present but the UNet cross-attention width is {contextDim}, not 1024");
            Require(!sd1Clip, $"the file holds both an SD 1.x CLIP text encoder ('{OriginalPrefixes.Sd1TextEncoder}') and an SD 2.x one ('{OriginalPrefixes.Sd2TextEncoder}')");
        }
        else if (contextDim == 768 || (sd1Clip && ClipWidth(shapes, OriginalPrefixes.Sd1TextEncoder + "text_model.embeddings.token_embedding.weight") == contextDim))
        {
            // Other widths: an SD 1.x layout with its CLIP text encoder as wide as the cross-attention (a resized model).
            architecture = SdArchitecture.SD1;
        }
        else
        {
            throw new CheckpointFormatException(source, $"the UNet cross-attention width is {contextDim}; known widths are 768 (SD 1.x), 1024 (SD 2.x), 2048 (SDXL base) and 1280 (SDXL refiner), and no SD 1.x text encoder of that width is present");
        }

        if (unsupported is null && labelEmbedding && architecture != SdArchitecture.SdxlBase)
        {
            unsupported = $"the {architecture} UNet has a class embedding ('{LabelEmbedding}'), as unCLIP and upscaler models do; those are not supported";
        }

        var components = new List<SdComponent> { SdComponent.Unet };
        if (shapes.Keys.Any(k => k.StartsWith(OriginalPrefixes.Vae, StringComparison.Ordinal) && !IsVaeLoss(k)))
        {
            components.Add(SdComponent.Vae);
        }

        if ((architecture == SdArchitecture.SD1 && sd1Clip) || (architecture == SdArchitecture.SD2 && sd2Clip) || (architecture == SdArchitecture.SdxlBase && xlClip))
        {
            components.Add(SdComponent.TextEncoder);
        }

        if ((architecture == SdArchitecture.SdxlBase && xlBigG) || (architecture == SdArchitecture.SdxlRefiner && refinerBigG))
        {
            components.Add(SdComponent.TextEncoder2);
        }

        var (prediction, predictionSource) = Prediction(architecture, shapes, metadata);
        return new SingleFileDetection(architecture, (int)convIn[1], contextDim, prediction, predictionSource, components,
            HasPrefix(OriginalPrefixes.Ema), unsupported);

        void Require(bool condition, string message)
        {
            if (!condition)
            {
                throw new CheckpointFormatException(source, message);
            }
        }
    }

    /// <summary>
    /// The diffusers <c>UNet2DConditionModel</c> <c>config.json</c> values implied by the UNet's shapes, under the
    /// diffusers key names: <c>in_channels</c>, <c>out_channels</c>, <c>block_out_channels</c>,
    /// <c>layers_per_block</c>, <c>down_block_types</c>, <c>mid_block_type</c>, <c>up_block_types</c>,
    /// <c>cross_attention_dim</c>, <c>attention_head_dim</c> (8 heads for SD 1.x; head dimension 64 for SD 2.x and
    /// SDXL, stored as the per-level head count, as diffusers does), <c>transformer_layers_per_block</c>,
    /// <c>use_linear_projection</c>, <c>class_embed_type</c>, <c>addition_embed_type</c>,
    /// <c>addition_time_embed_dim</c>, <c>projection_class_embeddings_input_dim</c>, and <c>sample_size</c> where the
    /// family fixes it (64 SD 1.x, 128 SDXL, SD 2.x 96 for v-prediction / 64 for epsilon, absent when unknown).
    /// Keys absent here take the diffusers defaults.
    /// </summary>
    public static JsonObject DeriveUnetConfig(IReadOnlyDictionary<string, long[]> shapes, SingleFileDetection detection)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        ArgumentNullException.ThrowIfNull(detection);
        var unet = Strip(shapes, OriginalPrefixes.Unet);
        var layout = UnetLayout.FromOriginal(unet.Keys);
        var l = layout.LayersPerBlock;
        var widths = Enumerable.Range(0, layout.Levels)
            .Select(i => Shape(unet, $"input_blocks.{I((l + 1) * i + 1)}.0.out_layers.3.weight", OriginalPrefixes.Unet)[0]).ToArray();
        var depths = Enumerable.Range(0, layout.Levels)
            .Select(i => layout.DownAttention[i] ? TransformerDepth(unet, $"input_blocks.{I((l + 1) * i + 1)}.1.") : 1).ToArray();
        var firstAttention = unet.Keys.FirstOrDefault(k => k.EndsWith(".1.proj_in.weight", StringComparison.Ordinal) && k.StartsWith("input_blocks.", StringComparison.Ordinal))
            ?? unet.Keys.First(k => k.EndsWith("proj_in.weight", StringComparison.Ordinal));
        var sdxl = detection.Architecture is SdArchitecture.SdxlBase or SdArchitecture.SdxlRefiner;

        var config = new JsonObject
        {
            ["in_channels"] = Shape(unet, "input_blocks.0.0.weight", OriginalPrefixes.Unet)[1],
            ["out_channels"] = Shape(unet, "out.2.weight", OriginalPrefixes.Unet)[0],
            ["down_block_types"] = Strings(layout.DownAttention.Select(a => a ? "CrossAttnDownBlock2D" : "DownBlock2D")),
            ["mid_block_type"] = layout.MidAttention ? "UNetMidBlock2DCrossAttn" : "UNetMidBlock2D",
            ["up_block_types"] = Strings(layout.UpAttention.Select(a => a ? "CrossAttnUpBlock2D" : "UpBlock2D")),
            ["block_out_channels"] = Numbers(widths),
            ["layers_per_block"] = l,
            ["cross_attention_dim"] = detection.CrossAttentionDim,
            ["attention_head_dim"] = detection.Architecture == SdArchitecture.SD1 ? 8 : Numbers(widths.Select(w => w / 64)),
            ["transformer_layers_per_block"] = depths.All(d => d == 1) ? 1 : Numbers(depths),
            ["use_linear_projection"] = unet[firstAttention].Length == 2,
            ["class_embed_type"] = null,
            ["addition_embed_type"] = sdxl ? "text_time" : null,
            ["addition_time_embed_dim"] = null,
            ["projection_class_embeddings_input_dim"] = null,
        };
        if (sdxl && unet.TryGetValue("label_emb.0.0.weight", out var adm))
        {
            // SDXL base: adm input = pooled text embedding (1280) + 6 Fourier-embedded size/crop numbers.
            var pooled = shapes.TryGetValue(OriginalPrefixes.SdxlTextEncoder2 + OpenClipKeyMap.TextProjection, out var projection) ? projection[1] : 1280;
            config["addition_time_embed_dim"] = (adm[1] - pooled) / 6;
            config["projection_class_embeddings_input_dim"] = adm[1];
        }

        var sampleSize = SampleSize(detection, 64, 96, 128);
        if (sampleSize is not null)
        {
            config["sample_size"] = sampleSize;
        }

        return config;
    }

    /// <summary>
    /// The diffusers <c>AutoencoderKL</c> <c>config.json</c> values implied by the VAE's shapes: <c>in_channels</c>,
    /// <c>out_channels</c>, <c>latent_channels</c>, <c>block_out_channels</c>, <c>layers_per_block</c>,
    /// <c>down_block_types</c>, <c>up_block_types</c>, <c>use_quant_conv</c>, <c>use_post_quant_conv</c>,
    /// <c>mid_block_add_attention</c>, plus the family's <c>scaling_factor</c> (0.18215, SDXL 0.13025) and
    /// <c>sample_size</c> (512, SDXL 1024, SD 2.x 768 for v-prediction / 512 for epsilon, absent when unknown).
    /// </summary>
    /// <exception cref="CheckpointFormatException">The file has no VAE.</exception>
    public static JsonObject DeriveVaeConfig(IReadOnlyDictionary<string, long[]> shapes, SingleFileDetection detection)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        ArgumentNullException.ThrowIfNull(detection);
        var vae = Strip(shapes, OriginalPrefixes.Vae);
        if (vae.Count == 0)
        {
            throw new CheckpointFormatException("checkpoint", $"the file has no VAE (no '{OriginalPrefixes.Vae}*' tensors)");
        }

        var layout = VaeKeyMap.LayoutFromOriginal(vae.Keys);
        var widths = Enumerable.Range(0, layout.Levels).Select(i => Shape(vae, $"encoder.down.{I(i)}.block.0.conv2.weight", OriginalPrefixes.Vae)[0]);
        var sdxl = detection.Architecture is SdArchitecture.SdxlBase or SdArchitecture.SdxlRefiner;
        var config = new JsonObject
        {
            ["in_channels"] = Shape(vae, "encoder.conv_in.weight", OriginalPrefixes.Vae)[1],
            ["out_channels"] = Shape(vae, "decoder.conv_out.weight", OriginalPrefixes.Vae)[0],
            ["latent_channels"] = Shape(vae, "decoder.conv_in.weight", OriginalPrefixes.Vae)[1],
            ["down_block_types"] = Strings(Enumerable.Repeat("DownEncoderBlock2D", layout.Levels)),
            ["up_block_types"] = Strings(Enumerable.Repeat("UpDecoderBlock2D", layout.Levels)),
            ["block_out_channels"] = Numbers(widths),
            ["layers_per_block"] = layout.EncoderResnets,
            ["use_quant_conv"] = vae.ContainsKey("quant_conv.weight"),
            ["use_post_quant_conv"] = vae.ContainsKey("post_quant_conv.weight"),
            ["mid_block_add_attention"] = vae.ContainsKey("encoder.mid.attn_1.q.weight"),
            ["scaling_factor"] = sdxl ? 0.13025 : 0.18215,
        };
        var sampleSize = SampleSize(detection, 512, 768, 1024);
        if (sampleSize is not null)
        {
            config["sample_size"] = sampleSize;
        }

        return config;
    }

    internal static bool IsVaeLoss(string name) => name.StartsWith(OriginalPrefixes.Vae + "loss.", StringComparison.Ordinal);

    /// <summary>The names below <paramref name="prefix"/> with the prefix removed, with their shapes.</summary>
    internal static Dictionary<string, long[]> Strip(IReadOnlyDictionary<string, long[]> shapes, string prefix)
    {
        var result = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in shapes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                result.Add(name[prefix.Length..], shape);
            }
        }

        return result;
    }

    private static int? SampleSize(SingleFileDetection detection, int sd1, int sd2V, int sdxl) => detection.Architecture switch
    {
        SdArchitecture.SD1 => sd1,
        SdArchitecture.SdxlBase or SdArchitecture.SdxlRefiner => sdxl,
        _ => detection.Prediction switch
        {
            PredictionType.VPrediction => sd2V,
            PredictionType.Epsilon => sd1,
            _ => null,
        },
    };

    private static long? ClipWidth(IReadOnlyDictionary<string, long[]> shapes, string tokenEmbedding) =>
        shapes.TryGetValue(tokenEmbedding, out var shape) && shape.Length == 2 ? shape[1] : null;

    private static int? CrossAttentionDim(IReadOnlyDictionary<string, long[]> shapes)
    {
        foreach (var (name, shape) in shapes)
        {
            if (name.StartsWith(OriginalPrefixes.Unet, StringComparison.Ordinal) && name.EndsWith(".attn2.to_k.weight", StringComparison.Ordinal) && shape.Length == 2)
            {
                return (int)shape[1];
            }
        }

        return null;
    }

    internal static int TransformerDepth(Dictionary<string, long[]> unet, string attentionPrefix)
    {
        var blocks = new HashSet<int>();
        foreach (var name in unet.Keys)
        {
            if (name.StartsWith(attentionPrefix, StringComparison.Ordinal)
                && UnetLayout.TryParseIndex(name[attentionPrefix.Length..], "transformer_blocks.", out var index, out _))
            {
                blocks.Add(index);
            }
        }

        return blocks.Count;
    }

    private static (PredictionType?, string) Prediction(SdArchitecture architecture, IReadOnlyDictionary<string, long[]> shapes, IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is not null)
        {
            if (metadata.TryGetValue("modelspec.prediction_type", out var spec))
            {
                var value = spec.Trim().ToLowerInvariant();
                if (value is "v" or "v_prediction" or "v-prediction")
                {
                    return (PredictionType.VPrediction, "metadata modelspec.prediction_type = " + spec);
                }

                if (value is "epsilon" or "eps")
                {
                    return (PredictionType.Epsilon, "metadata modelspec.prediction_type = " + spec);
                }
            }

            if (metadata.TryGetValue("modelspec.architecture", out var arch))
            {
                if (arch.Contains("768-v", StringComparison.OrdinalIgnoreCase))
                {
                    return (PredictionType.VPrediction, "metadata modelspec.architecture = " + arch);
                }

                if (arch.Contains("v2-512", StringComparison.OrdinalIgnoreCase))
                {
                    return (PredictionType.Epsilon, "metadata modelspec.architecture = " + arch);
                }
            }

            if (metadata.TryGetValue("ss_v_parameterization", out var kohya) && bool.TryParse(kohya, out var v))
            {
                return (v ? PredictionType.VPrediction : PredictionType.Epsilon, "metadata ss_v_parameterization = " + kohya);
            }
        }

        if (shapes.ContainsKey("v_pred"))
        {
            return (PredictionType.VPrediction, "marker tensor 'v_pred'");
        }

        return architecture == SdArchitecture.SD2
            ? ((PredictionType?)null, "SD 2.x 512-base (epsilon) and 768-v (v-prediction) have identical tensors; state the prediction type")
            : (PredictionType.Epsilon, $"{architecture} default");
    }

    private static string NotStableDiffusionMessage(IReadOnlyDictionary<string, long[]> shapes)
    {
        var names = shapes.Keys.ToList();
        var hint = "";
        if (names.Any(n => n.StartsWith("lora_", StringComparison.Ordinal) || n.Contains(".lora_down.", StringComparison.Ordinal) || n.Contains(".lora_A.", StringComparison.Ordinal)))
        {
            hint = " It looks like a LoRA/LyCORIS network, not a full model.";
        }
        else if (names.Contains("conv_in.weight") && names.Any(n => n.StartsWith("down_blocks.", StringComparison.Ordinal)))
        {
            hint = " It looks like a diffusers UNet file; load it from a diffusers model folder instead.";
        }
        else if (names.Any(n => n.StartsWith("encoder.down.", StringComparison.Ordinal) || n.StartsWith("encoder.down_blocks.", StringComparison.Ordinal)))
        {
            hint = " It looks like a standalone VAE file.";
        }
        else if (names.Any(n => n.StartsWith("text_model.", StringComparison.Ordinal)))
        {
            hint = " It looks like a standalone text-encoder file.";
        }

        var examples = names.Count == 0 ? "none" : string.Join(", ", names.Take(5).Select(n => "'" + n + "'"));
        return "not an original Stable Diffusion single-file checkpoint: expected the UNet under 'model.diffusion_model.' " +
            $"(e.g. '{UnetProbe}' with 4 dimensions), the VAE under '{OriginalPrefixes.Vae}', and the text encoder(s) under " +
            $"'cond_stage_model.' (SD 1.x/2.x) or 'conditioner.embedders.' (SDXL). The file has {names.Count} tensors (first: {examples}).{hint}";
    }

    private static long[] Shape(Dictionary<string, long[]> component, string name, string prefix) =>
        component.TryGetValue(name, out var shape)
            ? shape
            : throw new CheckpointFormatException("checkpoint", $"the tensor '{prefix}{name}' is missing, so the config cannot be derived");

    private static JsonArray Numbers(IEnumerable<long> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    private static JsonArray Numbers(IEnumerable<int> values) => Numbers(values.Select(v => (long)v));

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
