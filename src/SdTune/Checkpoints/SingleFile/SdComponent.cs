namespace SdTune.Checkpoints.SingleFile;

/// <summary>A model of a Stable Diffusion pipeline, as diffusers splits a single-file checkpoint.</summary>
public enum SdComponent
{
    /// <summary>The denoising UNet (<c>unet/</c>; original prefix <c>model.diffusion_model.</c>).</summary>
    Unet,

    /// <summary>The autoencoder (<c>vae/</c>; original prefix <c>first_stage_model.</c>).</summary>
    Vae,

    /// <summary>The first text encoder (<c>text_encoder/</c>): CLIP ViT-L for SD1.x and SDXL, OpenCLIP ViT-H for SD2.x.</summary>
    TextEncoder,

    /// <summary>The second SDXL text encoder (<c>text_encoder_2/</c>): OpenCLIP ViT-bigG with projection.</summary>
    TextEncoder2,

    /// <summary>Tensors of the original wrapper class that belong to no diffusers model (noise-schedule buffers).</summary>
    Wrapper,
}
