namespace SdTune.Training.Optimization;

/// <summary>Lion hyper-parameters (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"); defaults are lion-pytorch's.</summary>
public sealed record LionOptions : OptimizerOptions
{
    /// <summary>Interpolation between momentum and gradient for the update's sign (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Decay of the momentum (default 0.99).</summary>
    public double Beta2 { get; init; } = 0.99;

    /// <summary>Weight decay: each step multiplies parameters by 1 - lr * weight_decay (default 0).</summary>
    public double WeightDecay { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        RequireBeta(Beta1, "Lion beta1", allowOne: true);
        RequireBeta(Beta2, "Lion beta2", allowOne: true);
        RequireNonNegative(WeightDecay, "Lion weight_decay");
    }
}
