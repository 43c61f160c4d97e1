using SdTune.Models;
using static TorchSharp.torch;

namespace SdTune.Checkpoints;

/// <summary>How a whole Stable Diffusion model is loaded (diffusers folder or single file).</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Element type of the loaded floating-point weights: float32 (default) for training, bfloat16 or float16 for
    /// frozen weights. Stored weights of another type are converted while they are read.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>What the UNet predicts, overriding the file (scheduler config, metadata); null keeps the file's value.
    /// Needed for SD 2.x single files without a hint: they default to v-prediction (the 768-v model), as diffusers does.</summary>
    public PredictionType? PredictionType { get; init; }

    /// <summary>Compute the UNet's attention in float32; null keeps the file's value. Single files cannot record it:
    /// SD 2.x v-prediction models default to true (SD 2.1 768-v needs it), every other model to false.</summary>
    public bool? UpcastAttention { get; init; }

    /// <summary>diffusers weight variant to load, e.g. "fp16" for <c>diffusion_pytorch_model.fp16.safetensors</c>; null
    /// loads the plain files.</summary>
    public string? Variant { get; init; }

    /// <summary>Single files only: skip tensors no conversion rule knows instead of failing.</summary>
    public bool AllowUnknownKeys { get; init; }

    /// <summary>The defaults: float32, prediction and upcasting from the file, no variant, strict.</summary>
    public static ModelLoadOptions Default { get; } = new();

    internal void Validate()
    {
        if (DType is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64))
        {
            throw new ArgumentException($"ModelLoadOptions.DType must be a floating-point type, got {DType}.");
        }
    }
}
