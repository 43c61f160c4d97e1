using SdTune.Checkpoints.SingleFile;
using SdTune.IO;
using SdTune.Models;

namespace SdTune.Tests.Checkpoints.SingleFile;

public class SingleFileInspectorTests
{
    /// <summary>An SD 2.1-shaped original key set, written by the reverse conversion from the SD2.1 manifests.</summary>
    internal static Dictionary<string, long[]> Sd2Original()
    {
        var components = new Dictionary<SdComponent, IReadOnlyDictionary<string, long[]>>
        {
            [SdComponent.Unet] = Manifests.Shapes("unet_sd21_768v.diffusers.json"),
            [SdComponent.Vae] = Manifests.Shapes("vae_sd.diffusers.json"),
            [SdComponent.TextEncoder] = Manifests.Shapes("openclip_h_text_sd2.hf.json"),
        };
        var plan = SingleFileConversionPlan.ToOriginal(SdArchitecture.SD2, components);
        Assert.Empty(plan.Unknown);
        return plan.Rows.ToDictionary(r => r.Target, r => r.TargetShape.ToArray());
    }

    [Fact]
    public void Detects_sd15()
    {
        var d = SingleFileInspector.Detect(Manifests.Shapes("sd15.original.json"));
        Assert.Equal(SdArchitecture.SD1, d.Architecture);
        Assert.Equal(4, d.UnetInChannels);
        Assert.False(d.IsInpainting);
        Assert.Equal(768, d.CrossAttentionDim);
        Assert.Equal(PredictionType.Epsilon, d.Prediction);
        Assert.Equal([SdComponent.Unet, SdComponent.Vae, SdComponent.TextEncoder], d.Components);
        Assert.False(d.HasEmaWeights);
        Assert.True(d.IsSupported);
    }

    [Fact]
    public void Detects_sdxl_base()
    {
        var d = SingleFileInspector.Detect(Manifests.Shapes("sdxl_base.original.json"));
        Assert.Equal(SdArchitecture.SdxlBase, d.Architecture);
        Assert.Equal(2048, d.CrossAttentionDim);
        Assert.Equal(PredictionType.Epsilon, d.Prediction);
        Assert.Equal([SdComponent.Unet, SdComponent.Vae, SdComponent.TextEncoder, SdComponent.TextEncoder2], d.Components);
        Assert.True(d.IsSupported);
    }

    [Fact]
    public void Detects_sd2_with_unknown_prediction_unless_the_file_says()
    {
        var shapes = Sd2Original();
        Assert.Contains("cond_stage_model.model.transformer.resblocks.23.attn.in_proj_weight", shapes.Keys);
        var d = SingleFileInspector.Detect(shapes);
        Assert.Equal(SdArchitecture.SD2, d.Architecture);
        Assert.Equal(1024, d.CrossAttentionDim);
        Assert.Null(d.Prediction);
        Assert.Contains("state the prediction type", d.PredictionSource, StringComparison.Ordinal);

        Assert.Equal(PredictionType.VPrediction, SingleFileInspector.Detect(shapes, new Dictionary<string, string> { ["modelspec.prediction_type"] = "v" }).Prediction);
        Assert.Equal(PredictionType.VPrediction, SingleFileInspector.Detect(shapes, new Dictionary<string, string> { ["modelspec.architecture"] = "stable-diffusion-v2-768-v" }).Prediction);
        Assert.Equal(PredictionType.Epsilon, SingleFileInspector.Detect(shapes, new Dictionary<string, string> { ["ss_v_parameterization"] = "False" }).Prediction);
        shapes["v_pred"] = [];
        Assert.Equal(PredictionType.VPrediction, SingleFileInspector.Detect(shapes).Prediction);
    }

    [Fact]
    public void Sd2_plan_drops_the_last_openclip_layer_and_produces_the_hf_text_encoder()
    {
        var shapes = Sd2Original();
        var plan = SingleFileConversionPlan.ToDiffusers(shapes, SingleFileInspector.Detect(shapes));
        Assert.Empty(plan.Unknown);
        var text = plan.RowsOf(SdComponent.TextEncoder).Select(r => r.Target + " " + Manifests.Format(r.TargetShape));
        Manifests.AssertSameSet(Manifests.Shapes("openclip_h_text_sd2.hf.json").Select(e => e.Key + " " + Manifests.Format(e.Value)), text, "SD2 text encoder");
        var unet = plan.RowsOf(SdComponent.Unet).Select(r => r.Target + " " + Manifests.Format(r.TargetShape));
        Manifests.AssertSameSet(Manifests.Shapes("unet_sd21_768v.diffusers.json").Select(e => e.Key + " " + Manifests.Format(e.Value)), unet, "SD2 UNet");

        var ignored = plan.Ignored.Select(i => i.Name).ToList();
        Assert.Equal(12, ignored.Count(n => n.StartsWith("cond_stage_model.model.transformer.resblocks.23.", StringComparison.Ordinal)));
        Assert.Contains("cond_stage_model.model.text_projection", ignored);
        Assert.Contains("cond_stage_model.model.logit_scale", ignored);
        Assert.Equal(12 + 12 + 2, ignored.Count); // schedule buffers, layer 23, projection and logit scale
    }

    [Fact]
    public void Detects_inpainting_and_still_converts()
    {
        var shapes = Manifests.Shapes("sd15.original.json");
        shapes["model.diffusion_model.input_blocks.0.0.weight"] = [320, 9, 3, 3];
        var d = SingleFileInspector.Detect(shapes);
        Assert.True(d.IsInpainting);
        Assert.Equal(9, d.UnetInChannels);
        Assert.Contains("inpainting", d.Describe(), StringComparison.Ordinal);
        var plan = SingleFileConversionPlan.ToDiffusers(shapes, d);
        Assert.Equal([320L, 9, 3, 3], plan.Rows.Single(r => r.Target == "conv_in.weight").TargetShape);
        Assert.Equal(9, SingleFileInspector.DeriveUnetConfig(shapes, d)["in_channels"]!.GetValue<long>());
    }

    [Fact]
    public void Flags_the_sdxl_refiner_as_unsupported()
    {
        var shapes = Manifests.Shapes("sdxl_base.original.json")
            .Where(e => !e.Key.StartsWith("conditioner.", StringComparison.Ordinal))
            .ToDictionary(e => e.Key, e => e.Key.EndsWith(".attn2.to_k.weight", StringComparison.Ordinal) ? [e.Value[0], 1280L] : e.Value);
        shapes["conditioner.embedders.0.model.transformer.resblocks.0.attn.in_proj_weight"] = [3840, 1280];
        var d = SingleFileInspector.Detect(shapes, source: "refiner.safetensors");
        Assert.Equal(SdArchitecture.SdxlRefiner, d.Architecture);
        Assert.False(d.IsSupported);
        Assert.Contains("refiner", d.UnsupportedReason, StringComparison.Ordinal);
        var e = Assert.Throws<CheckpointFormatException>(() => SingleFileConversionPlan.ToDiffusers(shapes, d, "refiner.safetensors"));
        Assert.Contains("refiner.safetensors", e.Message, StringComparison.Ordinal);
        Assert.Contains("not supported", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_a_file_that_is_no_original_checkpoint_and_says_what_was_expected()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => SingleFileInspector.Detect(Manifests.Shapes("vae_sd.diffusers.json"), source: "vae.safetensors"));
        Assert.Contains("vae.safetensors", e.Message, StringComparison.Ordinal);
        Assert.Contains("model.diffusion_model.input_blocks.0.0.weight", e.Message, StringComparison.Ordinal);
        Assert.Contains("first_stage_model.", e.Message, StringComparison.Ordinal);
        Assert.Contains("conditioner.embedders.", e.Message, StringComparison.Ordinal);
        Assert.Contains("standalone VAE", e.Message, StringComparison.Ordinal);

        var unet = Assert.Throws<CheckpointFormatException>(() => SingleFileInspector.Detect(Manifests.Shapes("unet_sd15.diffusers.json")));
        Assert.Contains("diffusers UNet", unet.Message, StringComparison.Ordinal);
        var lora = Assert.Throws<CheckpointFormatException>(() => SingleFileInspector.Detect(new Dictionary<string, long[]> { ["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight"] = [4, 320] }));
        Assert.Contains("LoRA", lora.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_contradicting_text_encoder_and_unet()
    {
        var shapes = Manifests.Shapes("sd15.original.json");
        shapes["cond_stage_model.model.ln_final.weight"] = [1024];
        var e = Assert.Throws<CheckpointFormatException>(() => SingleFileInspector.Detect(shapes));
        Assert.Contains("768", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reports_ema_as_ignored_and_unknown_keys_by_name()
    {
        var shapes = Manifests.Shapes("sd15.original.json");
        shapes["model_ema.decay"] = [];
        shapes["model_ema.diffusion_modelinput_blocks00weight"] = [320, 4, 3, 3];
        shapes["something.else"] = [3];
        shapes["model.diffusion_model.input_blocks.1.0.in_layers.9.weight"] = [3];
        var d = SingleFileInspector.Detect(shapes);
        Assert.True(d.HasEmaWeights);
        var plan = SingleFileConversionPlan.ToDiffusers(shapes, d);
        Assert.Equal(["something.else", "model.diffusion_model.input_blocks.1.0.in_layers.9.weight"], plan.Unknown.OrderDescending(StringComparer.Ordinal));
        Assert.Contains(plan.Ignored, i => i.Name == "model_ema.decay" && i.Reason.Contains("EMA", StringComparison.Ordinal));
        var e = Assert.Throws<CheckpointFormatException>(() => plan.EnsureNoUnknown("merged.safetensors"));
        Assert.Contains("'something.else'", e.Message, StringComparison.Ordinal);
        Assert.Contains("merged.safetensors", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Accepts_the_clip_layout_without_text_model()
    {
        const string prefix = "cond_stage_model.transformer.";
        var shapes = Manifests.Shapes("sd15.original.json")
            .ToDictionary(e => e.Key.Replace(prefix + "text_model.", prefix, StringComparison.Ordinal), e => e.Value);
        var plan = SingleFileConversionPlan.ToDiffusers(shapes, SingleFileInspector.Detect(shapes));
        Assert.Empty(plan.Unknown);
        var targets = plan.RowsOf(SdComponent.TextEncoder).Select(r => r.Target).ToList();
        Assert.Equal(197, targets.Count);
        Assert.All(targets, t => Assert.StartsWith("text_model.", t, StringComparison.Ordinal));
        Assert.Contains(plan.Rows, r => r.Sources[0] == prefix + "encoder.layers.11.mlp.fc2.bias" && r.Target == "text_model.encoder.layers.11.mlp.fc2.bias");
    }
}
