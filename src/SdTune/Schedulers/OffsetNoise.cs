using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// Offset noise for training (Guttenberg 2023; diffusers' <c>--noise_offset</c>, kohya-ss <c>apply_noise_offset</c>):
/// unit noise plus a per-sample, per-channel constant, <c>noise + strength · randn(B, C, 1, 1)</c>, which lets a model
/// learn to change an image's mean brightness.
/// </summary>
public static class OffsetNoise
{
    /// <summary>
    /// Draws offset noise: first <c>randn(shape)</c>, then <c>randn(B, C, 1, 1)</c> from the same generator (the
    /// reference scripts' order), on the CPU in float32, then moved to <paramref name="device"/>.
    /// </summary>
    /// <param name="shape">The latent shape (B, C, H, W).</param>
    /// <param name="strength">The offset scale (0.05–0.1 is usual; 0 gives plain noise).</param>
    /// <param name="generator">The CPU generator to draw from; null uses torch's default generator.</param>
    /// <param name="device">Device of the result; null for the CPU.</param>
    public static Tensor Sample(long[] shape, double strength, torch.Generator? generator = null, Device? device = null)
    {
        CheckShape(shape);
        using var scope = NewDisposeScope();
        var noise = torch.randn(shape, dtype: ScalarType.Float32, device: CPU, generator: generator);
        var offset = torch.randn([shape[0], shape[1], 1, 1], dtype: ScalarType.Float32, device: CPU, generator: generator);
        return Apply(noise, offset, strength).to(device ?? CPU).MoveToOuterDisposeScope();
    }

    /// <summary><c>noise + strength · offsetRandn</c> for given draws.</summary>
    /// <param name="noise">Unit noise (B, C, H, W).</param>
    /// <param name="offsetRandn">Unit noise (B, C, 1, 1).</param>
    /// <param name="strength">The offset scale.</param>
    public static Tensor Apply(Tensor noise, Tensor offsetRandn, double strength)
    {
        CheckOffset(noise, offsetRandn);
        return noise + (strength * offsetRandn);
    }

    /// <summary>
    /// kohya-ss adaptive noise offset: the offset of each sample and channel is
    /// <c>max(strength + adaptiveScale · |mean_{H,W}(latents)|, 0)</c>, so channels far from zero get a larger offset.
    /// </summary>
    /// <param name="latents">The clean latents (B, C, H, W).</param>
    /// <param name="noise">Unit noise of the same shape.</param>
    /// <param name="offsetRandn">Unit noise (B, C, 1, 1).</param>
    /// <param name="strength">The base offset (kohya <c>noise_offset</c>).</param>
    /// <param name="adaptiveScale">kohya <c>adaptive_noise_scale</c>.</param>
    public static Tensor ApplyAdaptive(Tensor latents, Tensor noise, Tensor offsetRandn, double strength, double adaptiveScale)
    {
        ArgumentNullException.ThrowIfNull(latents);
        CheckOffset(noise, offsetRandn);
        if (!latents.shape.SequenceEqual(noise.shape))
        {
            throw new ArgumentException(
                $"The latents have shape [{string.Join(", ", latents.shape)}] but the noise has [{string.Join(", ", noise.shape)}].", nameof(noise));
        }

        using var scope = NewDisposeScope();
        var channelMean = latents.mean([2, 3], keepdim: true).abs();
        var offset = (strength + (adaptiveScale * channelMean)).clamp_min(0.0);
        return (noise + (offset * offsetRandn)).MoveToOuterDisposeScope();
    }

    private static void CheckShape(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length != 4)
        {
            throw new ArgumentException($"Offset noise needs a (B, C, H, W) latent shape, got [{string.Join(", ", shape)}].", nameof(shape));
        }
    }

    private static void CheckOffset(Tensor noise, Tensor offsetRandn)
    {
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(offsetRandn);
        if (noise.dim() != 4 || !offsetRandn.shape.SequenceEqual(new[] { noise.shape[0], noise.shape[1], 1L, 1L }))
        {
            throw new ArgumentException(
                $"The offset draw must have shape (B, C, 1, 1) for noise (B, C, H, W); got [{string.Join(", ", offsetRandn.shape)}] for [{string.Join(", ", noise.shape)}].",
                nameof(offsetRandn));
        }
    }
}
