using static TorchSharp.torch;

namespace SdTune.Training.Caching;

/// <summary>Where and how a <see cref="LatentCache"/> keeps latents.</summary>
public sealed record LatentCacheOptions
{
    /// <summary>The VAE's identity (see <see cref="ModelFingerprint"/>); part of every key.</summary>
    public required string VaeFingerprint { get; init; }

    /// <summary>Folder of the disk cache (one safetensors file per entry, shared across runs); null keeps latents in memory only.</summary>
    public string? Folder { get; init; }

    /// <summary>The type latents are stored and returned in (float32 by default; bfloat16 or float16 halve the size).</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Receives warnings (a corrupt cache file that is recomputed); null sends them to <see cref="System.Diagnostics.Trace"/>.</summary>
    public Action<string>? Warn { get; init; }
}
