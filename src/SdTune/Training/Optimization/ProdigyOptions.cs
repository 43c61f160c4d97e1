namespace SdTune.Training.Optimization;

/// <summary>
/// Prodigy hyper-parameters (Mishchenko &amp; Defazio 2023); defaults are the prodigyopt library's. The diffusers
/// training scripts turn <see cref="UseBiasCorrection"/> and <see cref="SafeguardWarmup"/> on. Keep the groups'
/// learning rate near 1.0: it multiplies the estimated step size d.
/// </summary>
public sealed record ProdigyOptions : OptimizerOptions
{
    /// <summary>Decay of the first moment (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Decay of the second moment (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Decay of the d-estimate's running sums; null (default) means sqrt(beta2).</summary>
    public double? Beta3 { get; init; }

    /// <summary>Added to the denominator, scaled by d (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Weight decay (default 0).</summary>
    public double WeightDecay { get; init; }

    /// <summary>AdamW-style decoupled weight decay; false adds weight_decay * p to the gradient (default true).</summary>
    public bool Decouple { get; init; } = true;

    /// <summary>Adam's bias correction folded into the step size (default false).</summary>
    public bool UseBiasCorrection { get; init; }

    /// <summary>Leave the learning rate out of the d-estimate's denominator, which helps during warm-up (default false).</summary>
    public bool SafeguardWarmup { get; init; }

    /// <summary>Initial estimate of d (default 1e-6).</summary>
    public double D0 { get; init; } = 1e-6;

    /// <summary>Multiplies the d estimate (default 1); the preferred knob for tuning.</summary>
    public double DCoefficient { get; init; } = 1.0;

    /// <summary>Largest factor by which d may grow per step (default +infinity, unrestricted).</summary>
    public double GrowthRate { get; init; } = double.PositiveInfinity;

    /// <summary>Compute the d statistics on every slice_p-th element only, to save memory (default 1: all elements).</summary>
    public int SliceP { get; init; } = 1;

    /// <summary>The effective beta3.</summary>
    public double EffectiveBeta3 => Beta3 ?? Math.Sqrt(Beta2);

    /// <inheritdoc />
    public override void Validate()
    {
        RequireBeta(Beta1, "Prodigy beta1");
        RequireBeta(Beta2, "Prodigy beta2");
        if (Beta3 is { } beta3)
        {
            RequireBeta(beta3, "Prodigy beta3", allowOne: true);
        }

        RequirePositive(Epsilon, "Prodigy eps");
        RequireNonNegative(WeightDecay, "Prodigy weight_decay");
        RequirePositive(D0, "Prodigy d0");
        RequirePositive(DCoefficient, "Prodigy d_coef");
        if (!(GrowthRate >= 1))
        {
            throw new ArgumentException($"Prodigy growth_rate = {GrowthRate} must be >= 1 (or infinity).");
        }

        if (SliceP < 1)
        {
            throw new ArgumentException($"Prodigy slice_p = {SliceP} must be >= 1.");
        }
    }
}
