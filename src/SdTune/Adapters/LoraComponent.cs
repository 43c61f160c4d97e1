namespace SdTune.Adapters;

/// <summary>Which model of a Stable Diffusion pipeline an adapter module belongs to.</summary>
public enum LoraComponent
{
    /// <summary>The denoising UNet.</summary>
    Unet,

    /// <summary>The (first) text encoder: CLIP ViT-L for SD 1.x and SDXL, OpenCLIP ViT-H for SD 2.x.</summary>
    TextEncoder,

    /// <summary>SDXL's second text encoder (OpenCLIP ViT-bigG).</summary>
    TextEncoder2,
}
