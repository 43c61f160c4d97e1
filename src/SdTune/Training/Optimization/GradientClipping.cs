using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>Gradient clipping by the global norm over all trainable parameters (kohya's and diffusers' <c>max_grad_norm</c>).</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients by max_norm / (total_norm + 1e-6) when the total norm exceeds <paramref name="maxNorm"/>,
    /// as <c>torch.nn.utils.clip_grad_norm_</c> does. Parameters without a gradient are skipped.
    /// </summary>
    /// <param name="parameters">The trainable parameters.</param>
    /// <param name="maxNorm">The largest allowed norm (> 0).</param>
    /// <param name="normType">The p of the p-norm (default 2).</param>
    /// <returns>The total norm before clipping (infinite or NaN when a gradient is).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not positive.</exception>
    public static double ClipByGlobalNorm(IEnumerable<Parameter> parameters, double maxNorm, double normType = 2.0)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum gradient norm must be > 0 (skip clipping to disable it).");
        }

        var list = parameters.ToList();
        using var noGrad = no_grad();
        return nn.utils.clip_grad_norm_(list, maxNorm, normType);
    }
}
