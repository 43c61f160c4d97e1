namespace SdTune.Models;

/// <summary>The Stable Diffusion family a single-file checkpoint belongs to.</summary>
public enum SdArchitecture
{
    /// <summary>SD 1.x: CLIP ViT-L text encoder, cross-attention dimension 768, 8 attention heads.</summary>
    SD1,

    /// <summary>SD 2.x: OpenCLIP ViT-H text encoder (penultimate layer), cross-attention dimension 1024, head dimension 64.</summary>
    SD2,

    /// <summary>SDXL base: CLIP ViT-L plus OpenCLIP ViT-bigG, cross-attention dimension 2048, size/crop conditioning.</summary>
    SdxlBase,

    /// <summary>SDXL refiner: OpenCLIP ViT-bigG only, cross-attention dimension 1280. Detected but not supported.</summary>
    SdxlRefiner,
}
