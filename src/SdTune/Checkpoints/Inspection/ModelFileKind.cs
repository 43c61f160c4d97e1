namespace SdTune.Checkpoints.Inspection;

/// <summary>What a model file or folder holds.</summary>
public enum ModelFileKind
{
    /// <summary>Nothing SdTune recognises.</summary>
    Unknown,

    /// <summary>A diffusers pipeline folder (<c>model_index.json</c> with component folders).</summary>
    DiffusersPipeline,

    /// <summary>A single-file checkpoint with UNet, VAE and text encoder(s) in the original (LDM/SGM) layout.</summary>
    StableDiffusionCheckpoint,

    /// <summary>A UNet alone (diffusers names).</summary>
    Unet,

    /// <summary>A VAE alone (diffusers or original names).</summary>
    Vae,

    /// <summary>A CLIP text encoder alone.</summary>
    TextEncoder,

    /// <summary>A LoRA or LyCORIS network (kohya/A1111 or diffusers/PEFT names).</summary>
    Lora,

    /// <summary>A textual-inversion embedding.</summary>
    Embedding,

    /// <summary>An A1111/NovelAI hypernetwork.</summary>
    Hypernetwork,

    /// <summary>A ControlNet.</summary>
    ControlNet,

    /// <summary>A T2I-Adapter.</summary>
    T2IAdapter,
}

/// <summary>The Stable Diffusion family a file belongs to.</summary>
public enum ModelArchitecture
{
    /// <summary>Not determined.</summary>
    Unknown,

    /// <summary>SD 1.x (CLIP ViT-L/14 text encoder, 768-wide context).</summary>
    SD1,

    /// <summary>SD 2.x (OpenCLIP ViT-H/14 text encoder, 1024-wide context).</summary>
    SD2,

    /// <summary>SDXL base (CLIP-L + OpenCLIP bigG, 2048-wide context).</summary>
    SDXL,
}
