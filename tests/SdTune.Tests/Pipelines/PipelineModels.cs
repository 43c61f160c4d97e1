using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Tests.Checkpoints.Formats;
using SdTune.Text;

namespace SdTune.Tests.Pipelines;

/// <summary>Tiny, self-consistent models for generation tests (context widths match the UNet's cross-attention).</summary>
internal static class PipelineModels
{
    /// <summary>The reference fixtures' tiny UNet, VAE and CLIP (cross-attention 32 = CLIP width 32).</summary>
    public static StableDiffusionModel Sd1(int seed = 11) =>
        TinyModels.WithReferenceScaledWeights(TinyModels.FixtureSd1("PNDMScheduler"), seed);

    /// <summary>A tiny SD2-shaped model: OpenCLIP-style text encoder (gelu, zero padding), v-prediction.</summary>
    public static StableDiffusionModel Sd2(int seed = 13)
    {
        var text = ClipTextConfig.FromJsonFile(TestPaths.Fixture("clip_text_tiny.config.json")) with { HiddenAct = ClipActivation.Gelu, PadTokenId = 0 };
        var model = new StableDiffusionModel(
            SdArchitecture.SD2,
            new UNet2DConditionModel(UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json")) with { UseLinearProjection = true, UpcastAttention = true }),
            new AutoencoderKL(AutoencoderKLConfig.Load(TestPaths.Fixture("vae_tiny.config.json"))),
            new ClipTextModel(text),
            ClipTokenizer.CreateDefault(ClipPadding.Zero),
            null,
            null,
            TinyModels.DefaultScheduler("DDIMScheduler"),
            PredictionType.VPrediction);
        return TinyModels.WithReferenceScaledWeights(model, seed);
    }

    /// <summary>A tiny SDXL-shaped model: two text encoders (64 + 64 wide), pooled projection 32, text_time conditioning.</summary>
    public static StableDiffusionModel Sdxl(int seed = 12)
    {
        var model = new StableDiffusionModel(
            SdArchitecture.SdxlBase,
            new UNet2DConditionModel(TinyModels.SdxlUnetConfig() with { CrossAttentionDim = [128, 128] }),
            new AutoencoderKL(TinyModels.VaeConfig(0.13025)),
            new ClipTextModel(TinyModels.ClipLConfig()),
            ClipTokenizer.CreateDefault(),
            new ClipTextModelWithProjection(TinyModels.BigGConfig()),
            ClipTokenizer.CreateDefault(ClipPadding.Zero),
            TinyModels.DefaultScheduler("EulerDiscreteScheduler"),
            PredictionType.Epsilon);
        return TinyModels.WithReferenceScaledWeights(model, seed);
    }
}
