using SdTune.Runtime;
using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>
/// Dynamic loss scaling for float16 training, as PyTorch's <c>GradScaler</c> does it: the loss is multiplied by
/// <see cref="Scale"/> before backward so small gradients survive float16; gradients are divided by it before the
/// optimizer step. A step whose gradients hold inf or NaN is skipped and the scale shrinks by the backoff factor;
/// after <see cref="GrowthInterval"/> good steps in a row it grows by the growth factor.
/// </summary>
/// <remarks>Per iteration: <c>backward(ScaleLoss(loss))</c>; optionally <see cref="Unscale"/> then clip; <see cref="Step"/>; <c>ZeroGrad</c>.</remarks>
public sealed class DynamicLossScaler
{
    private bool? unscaledFinite;

    /// <summary>Creates a scaler.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A factor or the interval is out of range.</exception>
    public DynamicLossScaler(double initialScale = 65536.0, double growthFactor = 2.0, double backoffFactor = 0.5, int growthInterval = 2000)
    {
        if (!(initialScale > 0) || double.IsInfinity(initialScale))
        {
            throw new ArgumentOutOfRangeException(nameof(initialScale), initialScale, "The initial loss scale must be finite and > 0.");
        }

        if (!(growthFactor > 1))
        {
            throw new ArgumentOutOfRangeException(nameof(growthFactor), growthFactor, "The growth factor must be > 1.");
        }

        if (!(backoffFactor > 0 && backoffFactor < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(backoffFactor), backoffFactor, "The backoff factor must be in (0, 1).");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(growthInterval, 1);
        Scale = initialScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
    }

    /// <summary>The current loss scale.</summary>
    public double Scale { get; private set; }

    /// <summary>Factor the scale grows by after <see cref="GrowthInterval"/> good steps.</summary>
    public double GrowthFactor { get; }

    /// <summary>Factor the scale shrinks by after a step with inf/NaN gradients.</summary>
    public double BackoffFactor { get; }

    /// <summary>Good steps in a row needed before the scale grows.</summary>
    public int GrowthInterval { get; }

    /// <summary>Good steps since the scale last changed.</summary>
    public int GrowthTracker { get; private set; }

    /// <summary>Steps skipped because of inf/NaN gradients so far.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>The loss times <see cref="Scale"/>, to call backward on.</summary>
    public Tensor ScaleLoss(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return loss * Scale;
    }

    /// <summary>
    /// Divides the gradients of the optimizer's parameters by <see cref="Scale"/> (call before clipping), once per
    /// iteration. Returns whether they are all finite.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called twice before <see cref="Step"/>.</exception>
    public bool Unscale(IStatefulOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (unscaledFinite is not null)
        {
            throw new InvalidOperationException("Gradients were already unscaled in this iteration; call Step() first.");
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var scalars = new HeldScalars();
        var inverse = scalars[1.0 / Scale];
        var flags = new List<Tensor>();
        foreach (var parameter in optimizer.Groups.SelectMany(g => g.Parameters))
        {
            if (parameter.grad is { } gradient)
            {
                gradient.mul_(inverse);
                flags.Add(gradient.isfinite().all());
            }
        }

        // One host synchronisation for all gradients.
        var finite = flags.Count == 0 || stack(flags).all().item<bool>();
        unscaledFinite = finite;
        return finite;
    }

    /// <summary>
    /// Unscales (unless <see cref="Unscale"/> already did), steps the optimizer when every gradient is finite, and
    /// updates the scale. Returns whether the optimizer stepped.
    /// </summary>
    public bool Step(IStatefulOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        var finite = unscaledFinite ?? Unscale(optimizer);
        unscaledFinite = null;
        if (finite)
        {
            optimizer.Step();
            GrowthTracker++;
            if (GrowthTracker >= GrowthInterval)
            {
                Scale *= GrowthFactor;
                GrowthTracker = 0;
            }
        }
        else
        {
            SkippedSteps++;
            Scale *= BackoffFactor;
            GrowthTracker = 0;
        }

        return finite;
    }

    /// <summary>Restores the scale and the good-step count saved from <see cref="Scale"/> and <see cref="GrowthTracker"/> (for resuming).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Restore(double scale, int growthTracker)
    {
        if (!(scale > 0) || double.IsInfinity(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The loss scale must be finite and > 0.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(growthTracker);
        Scale = scale;
        GrowthTracker = growthTracker;
        unscaledFinite = null;
    }
}
