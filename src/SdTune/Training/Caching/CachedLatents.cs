using static TorchSharp.torch;

namespace SdTune.Training.Caching;

/// <summary>
/// The VAE latent distribution of one training image, as cached: mean and standard deviation, both (1, C, h, w) on the
/// CPU in the cache's storage type, before the VAE scaling factor. Owned by the caller; dispose it.
/// </summary>
/// <remarks>
/// Storing the distribution rather than one sample follows diffusers' training scripts, which cache
/// <c>latent_dist</c> and draw a new sample each step; kohya's sd-scripts draws one sample when caching and reuses it
/// every epoch. <see cref="Sample"/> with a generator seeded per image gives kohya's behaviour back; <see cref="Mean"/> is
/// the mode.
/// </remarks>
public sealed class CachedLatents : IDisposable
{
    internal CachedLatents(Tensor mean, Tensor std)
    {
        Mean = mean;
        Std = std;
    }

    /// <summary>Mean of the latent distribution (its mode).</summary>
    public Tensor Mean { get; }

    /// <summary>Standard deviation of the latent distribution.</summary>
    public Tensor Std { get; }

    /// <summary>Draws <c>mean + std · N(0, 1)</c> (the default generator when <paramref name="generator"/> is null).</summary>
    public Tensor Sample(Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var noise = randn(Mean.shape, dtype: Mean.dtype, device: Mean.device, generator: generator);
        return (Mean + (Std * noise)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Mean.Dispose();
        Std.Dispose();
    }
}
