using SdTune.Models;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>Top-level name prefixes of the original single-file checkpoints.</summary>
public static class OriginalPrefixes
{
    /// <summary>The UNet, in every family.</summary>
    public const string Unet = "model.diffusion_model.";

    /// <summary>The VAE, in every family.</summary>
    public const string Vae = "first_stage_model.";

    /// <summary>SD 1.x CLIP ViT-L (a transformers <c>CLIPTextModel</c>).</summary>
    public const string Sd1TextEncoder = "cond_stage_model.transformer.";

    /// <summary>SD 2.x OpenCLIP ViT-H text tower.</summary>
    public const string Sd2TextEncoder = "cond_stage_model.model.";

    /// <summary>SDXL base CLIP ViT-L.</summary>
    public const string SdxlTextEncoder = "conditioner.embedders.0.transformer.";

    /// <summary>SDXL base OpenCLIP ViT-bigG text tower.</summary>
    public const string SdxlTextEncoder2 = "conditioner.embedders.1.model.";

    /// <summary>SDXL refiner OpenCLIP ViT-bigG text tower (the refiner's only text encoder).</summary>
    public const string SdxlRefinerTextEncoder = "conditioner.embedders.0.model.";

    /// <summary>EMA copies of the UNet weights written by ldm training.</summary>
    public const string Ema = "model_ema.";

    /// <summary>The prefix of <paramref name="component"/> in a file of <paramref name="architecture"/>.</summary>
    public static string Of(SdArchitecture architecture, SdComponent component) => (architecture, component) switch
    {
        (_, SdComponent.Unet) => Unet,
        (_, SdComponent.Vae) => Vae,
        (SdArchitecture.SD1, SdComponent.TextEncoder) => Sd1TextEncoder,
        (SdArchitecture.SD2, SdComponent.TextEncoder) => Sd2TextEncoder,
        (SdArchitecture.SdxlBase, SdComponent.TextEncoder) => SdxlTextEncoder,
        (SdArchitecture.SdxlBase, SdComponent.TextEncoder2) => SdxlTextEncoder2,
        (SdArchitecture.SdxlRefiner, SdComponent.TextEncoder2) => SdxlRefinerTextEncoder,
        _ => throw new ArgumentException($"{architecture} has no {component} in its single-file layout", nameof(component)),
    };
}
