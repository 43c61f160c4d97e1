namespace SdTune.Training;

/// <summary>
/// How frozen weights are held during training (<c>mixed_precision</c>). Trainable parameters and optimizer state stay
/// float32 in every mode; fp16 adds a dynamic loss scaler.
/// </summary>
public enum MixedPrecision
{
    /// <summary>Everything in float32 (<c>no</c>).</summary>
    No,

    /// <summary>Frozen weights in bfloat16 (<c>bf16</c>).</summary>
    BFloat16,

    /// <summary>Frozen weights in float16, loss scaling on (<c>fp16</c>).</summary>
    Float16,
}
