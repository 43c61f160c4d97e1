using System.Text.Json.Nodes;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Schedulers;
using SdTune.Text;
using static TorchSharp.torch;

namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// The architecture of the toy base model: a standard SD 1.x pipeline shrunk to the toy world. A KL VAE maps
/// 32×32 RGB to 16×16×4 latents, a 3-layer CLIP text encoder of width 32 keeps the full CLIP vocabulary (so the real
/// tokenizer works), and a 3-level UNet with cross-attention at 8×8, 4×4 and the middle denoises the latents. Every
/// part is a normal diffusers component, so the model saves and loads as an ordinary diffusers folder or single file.
/// </summary>
public static class ToyBaseModel
{
    /// <summary>The side of the images the model makes.</summary>
    public const int ImageSize = 32;

    private const string UnetJson = """
        {"_class_name":"UNet2DConditionModel","act_fn":"silu","attention_head_dim":[2,4,4],"block_out_channels":[32,64,64],
         "center_input_sample":false,"cross_attention_dim":32,"down_block_types":["DownBlock2D","CrossAttnDownBlock2D","CrossAttnDownBlock2D"],
         "downsample_padding":1,"flip_sin_to_cos":true,"freq_shift":0,"in_channels":4,"layers_per_block":1,"mid_block_scale_factor":1,"norm_eps":1e-05,
         "norm_num_groups":8,"out_channels":4,"sample_size":16,"up_block_types":["CrossAttnUpBlock2D","CrossAttnUpBlock2D","UpBlock2D"]}
        """;

    private const string VaeJson = """
        {"_class_name":"AutoencoderKL","act_fn":"silu","block_out_channels":[16,32],"down_block_types":["DownEncoderBlock2D","DownEncoderBlock2D"],
         "in_channels":3,"latent_channels":4,"layers_per_block":1,"norm_num_groups":8,"out_channels":3,"sample_size":32,
         "up_block_types":["UpDecoderBlock2D","UpDecoderBlock2D"],"scaling_factor":1.0,"force_upcast":false}
        """;

    /// <summary>The UNet: 16×16×4 latents, channels (32, 64, 64), one ResNet per block, cross-attention width 32.</summary>
    public static UNet2DConditionConfig Unet { get; } = UNet2DConditionConfig.Parse(UnetJson, "toy base UNet config");

    /// <summary>The VAE: 32×32 RGB to 16×16×4, channels (16, 32). Its scaling factor is set after the VAE stage.</summary>
    public static AutoencoderKLConfig Vae { get; } = AutoencoderKLConfig.Parse(VaeJson, "toy base VAE config");

    /// <summary>The text encoder: CLIP architecture (quick-GELU, as SD 1.x), full vocabulary, width 32, 3 layers, 2 heads.</summary>
    public static ClipTextConfig TextEncoder { get; } = ClipTextConfig.ClipL with
    {
        HiddenSize = 32,
        IntermediateSize = 128,
        ProjectionDim = 32,
        NumHiddenLayers = 3,
        NumAttentionHeads = 2,
    };

    /// <summary>The SD 1.x scheduler config (scaled-linear betas 0.00085–0.012 over 1000 steps, epsilon prediction).</summary>
    public static JsonObject SchedulerConfig() => Checkpoints.DefaultSchedulerConfigs.For(SdArchitecture.SD1, PredictionType.Epsilon);

    /// <summary>The training noise schedule matching <see cref="SchedulerConfig"/>.</summary>
    public static NoiseSchedule NoiseSchedule() => new(NoiseScheduleConfig.FromJson(SchedulerConfig().ToJsonString(), "toy base scheduler config"));

    /// <summary>A model with freshly initialised weights, seeded by <paramref name="seed"/>.</summary>
    /// <param name="seed">Seeds torch's generator before the modules are built.</param>
    public static StableDiffusionModel Create(long seed)
    {
        random.manual_seed(seed);
        return Assemble(new UNet2DConditionModel(Unet), new AutoencoderKL(Vae), new ClipTextModel(TextEncoder));
    }

    /// <summary>Wraps trained parts as a model (takes ownership of them).</summary>
    internal static StableDiffusionModel Assemble(UNet2DConditionModel unet, AutoencoderKL vae, ClipTextModel textEncoder) =>
        new(SdArchitecture.SD1, unet, vae, textEncoder, ClipTokenizer.CreateDefault(ClipPadding.EndToken), null, null, SchedulerConfig(), PredictionType.Epsilon);
}
