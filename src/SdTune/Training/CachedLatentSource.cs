using SdTune.Training.Caching;
using SdTune.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>
/// Latents from a <see cref="LatentCache"/>: each image's VAE distribution (mean, std) is encoded once — keyed by the
/// image content, its resize, crop and flip, and the VAE — and a fresh draw is taken every step with the run's
/// generator, exactly as <see cref="VaeLatentSource"/> draws from a freshly encoded distribution (one normal draw
/// for the whole batch), so runs with and without the cache agree up to float rounding of the VAE pass.
/// </summary>
public sealed class CachedLatentSource : ILatentSource
{
    private readonly LatentCache cache;
    private readonly double scalingFactor;
    private readonly double? shiftFactor;
    private readonly Device device;

    /// <summary>Creates the source.</summary>
    /// <param name="cache">The cache (owned by the caller).</param>
    /// <param name="scalingFactor">The VAE's scaling factor.</param>
    /// <param name="shiftFactor">The VAE's shift factor, if it has one.</param>
    /// <param name="device">The training device.</param>
    public CachedLatentSource(LatentCache cache, double scalingFactor, double? shiftFactor, Device device)
    {
        this.cache = cache ?? throw new ArgumentNullException(nameof(cache));
        this.scalingFactor = scalingFactor;
        this.shiftFactor = shiftFactor;
        this.device = device ?? throw new ArgumentNullException(nameof(device));
    }

    /// <inheritdoc />
    public Tensor GetLatents(TrainingBatch batch, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var means = new List<Tensor>();
        var stds = new List<Tensor>();
        foreach (var sample in batch.Samples)
        {
            using var cached = cache.Get(sample);
            means.Add(cached.Mean.reshape([1, .. cached.Mean.shape[^3..]]).clone());
            stds.Add(cached.Std.reshape([1, .. cached.Std.shape[^3..]]).clone());
        }

        var mean = cat(means, 0);
        var std = cat(stds, 0);
        var stacked = (mean + (std * randn(mean.shape, dtype: mean.dtype, device: mean.device, generator: generator))).to(ScalarType.Float32);
        if (shiftFactor is { } shift)
        {
            stacked = stacked - shift;
        }

        return (stacked * scalingFactor).to(device).MoveToOuterDisposeScope();
    }
}
