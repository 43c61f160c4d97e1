using static TorchSharp.torch;

namespace SdTune.Models.Vae;

/// <summary>
/// The VAE's latent distribution: a Gaussian per latent element, built from encoder moments (B, 2C, h, w) split
/// into mean and log-variance, the log-variance clamped to [-30, 20]. Owns its tensors; dispose it.
/// </summary>
public sealed class DiagonalGaussianDistribution : IDisposable
{
    /// <summary>Splits <paramref name="moments"/> (B, 2C, h, w) into mean and clamped log-variance.</summary>
    public DiagonalGaussianDistribution(Tensor moments)
    {
        ArgumentNullException.ThrowIfNull(moments);
        if (moments.dim() < 2 || moments.shape[1] % 2 != 0)
        {
            throw new ArgumentException($"Moments need an even channel count (mean and log-variance), got shape [{string.Join(", ", moments.shape)}].", nameof(moments));
        }

        using var scope = NewDisposeScope();
        var parts = moments.chunk(2, dim: 1);
        Mean = parts[0].contiguous().MoveToOuterDisposeScope();
        LogVar = parts[1].clamp(-30.0, 20.0).MoveToOuterDisposeScope();
        Std = (0.5 * LogVar).exp().MoveToOuterDisposeScope();
        Var = LogVar.exp().MoveToOuterDisposeScope();
    }

    /// <summary>Mean (B, C, h, w).</summary>
    public Tensor Mean { get; }

    /// <summary>Log-variance, clamped to [-30, 20].</summary>
    public Tensor LogVar { get; }

    /// <summary>Standard deviation exp(0.5 * LogVar).</summary>
    public Tensor Std { get; }

    /// <summary>Variance exp(LogVar).</summary>
    public Tensor Var { get; }

    /// <summary>Draws mean + std * N(0, 1) with the given generator (the default generator when null).</summary>
    public Tensor Sample(Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var noise = randn(Mean.shape, dtype: Mean.dtype, device: Mean.device, generator: generator);
        return (Mean + (Std * noise)).MoveToOuterDisposeScope();
    }

    /// <summary>The most likely latent: the mean (a new handle; dispose it independently).</summary>
    public Tensor Mode() => Mean.alias();

    /// <summary>KL divergence to N(0, 1), summed over (C, h, w): one value per sample.</summary>
    public Tensor KlToStandardNormal()
    {
        using var scope = NewDisposeScope();
        var kl = 0.5 * (Mean.pow(2) + Var - 1.0 - LogVar).sum([1, 2, 3]);
        return kl.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Mean.Dispose();
        LogVar.Dispose();
        Std.Dispose();
        Var.Dispose();
    }
}
