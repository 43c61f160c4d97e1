namespace SdTune.Workshop.Lora;

/// <summary>How <see cref="LoraBake"/> writes the model.</summary>
public enum BakedModelLayout
{
    /// <summary>An original single-file checkpoint (<c>.safetensors</c>, or a <c>.ckpt</c> pickle), as A1111 and ComfyUI load it.</summary>
    SingleFile,

    /// <summary>A diffusers pipeline folder.</summary>
    Diffusers,
}
