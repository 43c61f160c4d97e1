namespace SdTune.Training.Optimization;

/// <summary>AdamW hyper-parameters (Loshchilov &amp; Hutter, decoupled weight decay); defaults are PyTorch's.</summary>
public sealed record AdamWOptions : OptimizerOptions
{
    /// <summary>Decay of the first moment (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Decay of the second moment (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Added to the denominator (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Decoupled weight decay: each step multiplies parameters by 1 - lr * weight_decay (default 0.01).</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <inheritdoc />
    public override void Validate()
    {
        RequireBeta(Beta1, "AdamW beta1");
        RequireBeta(Beta2, "AdamW beta2");
        RequireNonNegative(Epsilon, "AdamW epsilon");
        RequireNonNegative(WeightDecay, "AdamW weight_decay");
    }
}
