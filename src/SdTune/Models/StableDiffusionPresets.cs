using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;

namespace SdTune.Models;

/// <summary>The component configurations of one published Stable Diffusion release.</summary>
/// <param name="Name">Short name (sd15, sd21-v, sdxl-base).</param>
/// <param name="Unet">The UNet's config.</param>
/// <param name="Vae">The VAE's config.</param>
/// <param name="TextEncoder">The first (or only) text encoder.</param>
/// <param name="TextEncoder2">SDXL's second text encoder (with projection); null otherwise.</param>
/// <param name="Prediction">What the release's UNet predicts.</param>
public sealed record StableDiffusionPreset(string Name, UNet2DConditionConfig Unet, AutoencoderKLConfig Vae, ClipTextConfig TextEncoder, ClipTextConfig? TextEncoder2,
    PredictionType Prediction = PredictionType.Epsilon)
{
    /// <summary>The architecture family: SDXL with a second text encoder, SD 2.x with OpenCLIP ViT-H (1024 wide), else SD 1.x.</summary>
    public SdArchitecture Architecture => TextEncoder2 is not null ? SdArchitecture.SdxlBase : TextEncoder.HiddenSize == 1024 ? SdArchitecture.SD2 : SdArchitecture.SD1;
}

/// <summary>
/// The configs of the full-size releases, exactly as their published <c>config.json</c> files give them
/// (SD 1.5, SD 2.1 768-v, SDXL base 1.0). Used to build blank models, for benchmarks and architecture tests.
/// </summary>
public static class StableDiffusionPresets
{
    private const string Sd15Unet = """
        {"_class_name":"UNet2DConditionModel","act_fn":"silu","attention_head_dim":8,"block_out_channels":[320,640,1280,1280],
         "center_input_sample":false,"cross_attention_dim":768,"down_block_types":["CrossAttnDownBlock2D","CrossAttnDownBlock2D","CrossAttnDownBlock2D","DownBlock2D"],
         "downsample_padding":1,"flip_sin_to_cos":true,"freq_shift":0,"in_channels":4,"layers_per_block":2,"mid_block_scale_factor":1,"norm_eps":1e-05,
         "norm_num_groups":32,"out_channels":4,"sample_size":64,"up_block_types":["UpBlock2D","CrossAttnUpBlock2D","CrossAttnUpBlock2D","CrossAttnUpBlock2D"]}
        """;

    private const string Sd21VUnet = """
        {"_class_name":"UNet2DConditionModel","act_fn":"silu","attention_head_dim":[5,10,20,20],"block_out_channels":[320,640,1280,1280],
         "center_input_sample":false,"cross_attention_dim":1024,"down_block_types":["CrossAttnDownBlock2D","CrossAttnDownBlock2D","CrossAttnDownBlock2D","DownBlock2D"],
         "downsample_padding":1,"dual_cross_attention":false,"flip_sin_to_cos":true,"freq_shift":0,"in_channels":4,"layers_per_block":2,"mid_block_scale_factor":1,
         "norm_eps":1e-05,"norm_num_groups":32,"num_class_embeds":null,"only_cross_attention":false,"out_channels":4,"sample_size":96,
         "up_block_types":["UpBlock2D","CrossAttnUpBlock2D","CrossAttnUpBlock2D","CrossAttnUpBlock2D"],"upcast_attention":true,"use_linear_projection":true}
        """;

    private const string SdxlUnet = """
        {"_class_name":"UNet2DConditionModel","act_fn":"silu","addition_embed_type":"text_time","addition_embed_type_num_heads":64,"addition_time_embed_dim":256,
         "attention_head_dim":[5,10,20],"block_out_channels":[320,640,1280],"center_input_sample":false,"class_embed_type":null,"conv_in_kernel":3,"conv_out_kernel":3,
         "cross_attention_dim":2048,"down_block_types":["DownBlock2D","CrossAttnDownBlock2D","CrossAttnDownBlock2D"],"downsample_padding":1,"dual_cross_attention":false,
         "flip_sin_to_cos":true,"freq_shift":0,"in_channels":4,"layers_per_block":2,"mid_block_scale_factor":1,"mid_block_type":"UNetMidBlock2DCrossAttn","norm_eps":1e-05,
         "norm_num_groups":32,"num_attention_heads":null,"only_cross_attention":false,"out_channels":4,"projection_class_embeddings_input_dim":2816,
         "resnet_time_scale_shift":"default","sample_size":128,"transformer_layers_per_block":[1,2,10],"up_block_types":["CrossAttnUpBlock2D","CrossAttnUpBlock2D","UpBlock2D"],
         "upcast_attention":null,"use_linear_projection":true}
        """;

    private const string SdVae = """
        {"_class_name":"AutoencoderKL","act_fn":"silu","block_out_channels":[128,256,512,512],"down_block_types":["DownEncoderBlock2D","DownEncoderBlock2D","DownEncoderBlock2D","DownEncoderBlock2D"],
         "in_channels":3,"latent_channels":4,"layers_per_block":2,"norm_num_groups":32,"out_channels":3,"sample_size":512,
         "up_block_types":["UpDecoderBlock2D","UpDecoderBlock2D","UpDecoderBlock2D","UpDecoderBlock2D"]}
        """;

    private const string SdxlVae = """
        {"_class_name":"AutoencoderKL","act_fn":"silu","block_out_channels":[128,256,512,512],"down_block_types":["DownEncoderBlock2D","DownEncoderBlock2D","DownEncoderBlock2D","DownEncoderBlock2D"],
         "in_channels":3,"latent_channels":4,"layers_per_block":2,"norm_num_groups":32,"out_channels":3,"sample_size":1024,
         "up_block_types":["UpDecoderBlock2D","UpDecoderBlock2D","UpDecoderBlock2D","UpDecoderBlock2D"],"scaling_factor":0.13025,"force_upcast":true}
        """;

    /// <summary>Stable Diffusion 1.5 (also the layout of every SD 1.x model).</summary>
    public static StableDiffusionPreset Sd15 { get; } = new("sd15", UNet2DConditionConfig.Parse(Sd15Unet, "sd15 preset"), AutoencoderKLConfig.Parse(SdVae, "sd vae preset"), ClipTextConfig.ClipL, null);

    /// <summary>Stable Diffusion 2.1 768-v (v-prediction; SD 2.x 512 models share the layout).</summary>
    public static StableDiffusionPreset Sd21V { get; } = new("sd21-v", UNet2DConditionConfig.Parse(Sd21VUnet, "sd21-v preset"), AutoencoderKLConfig.Parse(SdVae, "sd vae preset"), ClipTextConfig.OpenClipH, null, PredictionType.VPrediction);

    /// <summary>Stable Diffusion XL base 1.0.</summary>
    public static StableDiffusionPreset SdxlBase { get; } = new("sdxl-base", UNet2DConditionConfig.Parse(SdxlUnet, "sdxl-base preset"), AutoencoderKLConfig.Parse(SdxlVae, "sdxl vae preset"), ClipTextConfig.ClipL, ClipTextConfig.OpenClipBigG);

    /// <summary>All presets.</summary>
    public static IReadOnlyList<StableDiffusionPreset> All { get; } = [Sd15, Sd21V, SdxlBase];

    /// <summary>A preset by name.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static StableDiffusionPreset Get(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown model preset '{name}'. Valid: {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));
}
