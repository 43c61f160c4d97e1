using static TorchSharp.torch;

namespace SdTune.Checkpoints;

/// <summary>How a whole Stable Diffusion model is saved (diffusers folder or single file).</summary>
public sealed record ModelSaveOptions
{
    /// <summary>Element type of the saved floating-point tensors (float16 halves the size); null keeps each tensor's type.</summary>
    public ScalarType? DType { get; init; }

    /// <summary>diffusers folders only: the weight variant written, e.g. "fp16" gives
    /// <c>diffusion_pytorch_model.fp16.safetensors</c>; null writes the plain names.</summary>
    public string? Variant { get; init; }

    /// <summary>The defaults: keep types, plain file names.</summary>
    public static ModelSaveOptions Default { get; } = new();

    internal void Validate()
    {
        if (DType is { } dtype && dtype is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64))
        {
            throw new ArgumentException($"ModelSaveOptions.DType must be a floating-point type, got {dtype}.");
        }

        if (Variant is { } variant && (variant.Length == 0 || variant.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-')))
        {
            throw new ArgumentException($"ModelSaveOptions.Variant '{variant}' must be a non-empty name of letters, digits, '_' or '-'.");
        }
    }
}
