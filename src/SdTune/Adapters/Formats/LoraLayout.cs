namespace SdTune.Adapters.Formats;

/// <summary>How a LoRA file names its tensors.</summary>
public enum LoraLayout
{
    /// <summary>kohya/A1111: <c>lora_unet_…</c>/<c>lora_te…</c> module names, <c>lora_down</c>/<c>lora_up</c> and a 0-d <c>alpha</c> per module.</summary>
    Kohya,

    /// <summary>diffusers/PEFT: <c>unet.…</c>/<c>text_encoder.…</c>/<c>text_encoder_2.…</c> module paths, <c>lora_A</c>/<c>lora_B</c>, alpha in <see cref="PeftAdapterMetadata"/>.</summary>
    Peft,
}
