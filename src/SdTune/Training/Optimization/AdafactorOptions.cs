namespace SdTune.Training.Optimization;

/// <summary>
/// Adafactor hyper-parameters (Shazeer &amp; Stern 2018); defaults are those of the transformers implementation.
/// With <see cref="RelativeStep"/> (the default) the step size comes from the step count and the groups' learning
/// rates are not used; set it to false (and usually <see cref="ScaleParameter"/> too) to train with a given rate.
/// </summary>
public sealed record AdafactorOptions : OptimizerOptions
{
    /// <summary>Regularisation added to squared gradients (default 1e-30).</summary>
    public double Epsilon1 { get; init; } = 1e-30;

    /// <summary>Lower bound of the parameter scale when <see cref="ScaleParameter"/> is on (default 1e-3).</summary>
    public double Epsilon2 { get; init; } = 1e-3;

    /// <summary>The update's root-mean-square is clipped to this value (default 1).</summary>
    public double ClipThreshold { get; init; } = 1.0;

    /// <summary>Second-moment decay exponent: beta2 at step t is 1 - t^decay_rate (default -0.8).</summary>
    public double DecayRate { get; init; } = -0.8;

    /// <summary>First-moment decay; null (default) keeps no first moment.</summary>
    public double? Beta1 { get; init; }

    /// <summary>Weight decay: parameters shrink by lr * weight_decay each step (default 0).</summary>
    public double WeightDecay { get; init; }

    /// <summary>Multiply the step size by the parameter's root-mean-square (at least <see cref="Epsilon2"/>) (default true).</summary>
    public bool ScaleParameter { get; init; } = true;

    /// <summary>Use the step size min(1e-2, 1/sqrt(t)) instead of the groups' learning rates (default true).</summary>
    public bool RelativeStep { get; init; } = true;

    /// <summary>With <see cref="RelativeStep"/>: start from 1e-6 * t instead of 1e-2 (default false).</summary>
    public bool WarmupInit { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        RequireNonNegative(Epsilon1, "Adafactor eps[0]");
        RequireNonNegative(Epsilon2, "Adafactor eps[1]");
        RequirePositive(ClipThreshold, "Adafactor clip_threshold");
        if (!(DecayRate < 0))
        {
            throw new ArgumentException($"Adafactor decay_rate = {DecayRate} must be negative.");
        }

        if (Beta1 is { } beta1)
        {
            RequireBeta(beta1, "Adafactor beta1");
        }

        RequireNonNegative(WeightDecay, "Adafactor weight_decay");
        if (WarmupInit && !RelativeStep)
        {
            throw new ArgumentException("Adafactor warmup_init = true requires relative_step = true.");
        }
    }
}
