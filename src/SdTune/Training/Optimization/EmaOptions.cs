namespace SdTune.Training.Optimization;

/// <summary>Settings of <see cref="EmaWeights"/>; names and defaults as diffusers' <c>EMAModel</c>.</summary>
public sealed record EmaOptions
{
    /// <summary>The largest decay used (default 0.9999).</summary>
    public double Decay { get; init; } = 0.9999;

    /// <summary>The smallest decay used once averaging has started (default 0).</summary>
    public double MinDecay { get; init; }

    /// <summary>Optimizer steps before averaging starts; until then the average copies the weights (default 0).</summary>
    public long UpdateAfterStep { get; init; }

    /// <summary>Use the warm-up decay 1 - (1 + step / inv_gamma)^-power instead of (1 + step) / (10 + step) (default false).</summary>
    public bool UseEmaWarmup { get; init; }

    /// <summary>Warm-up: inverse multiplicative factor of the step (default 1).</summary>
    public double InvGamma { get; init; } = 1.0;

    /// <summary>Warm-up: exponential factor (default 2/3; 3/4 suits shorter runs).</summary>
    public double Power { get; init; } = 2.0 / 3.0;

    /// <summary>Throws if a value is out of range; the message names the field.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (!(Decay >= 0 && Decay <= 1))
        {
            throw new ArgumentException($"EMA decay = {Decay} must be in [0, 1].");
        }

        if (!(MinDecay >= 0 && MinDecay <= Decay))
        {
            throw new ArgumentException($"EMA min_decay = {MinDecay} must be in [0, decay].");
        }

        if (UpdateAfterStep < 0)
        {
            throw new ArgumentException($"EMA update_after_step = {UpdateAfterStep} must be >= 0.");
        }

        if (!(InvGamma > 0) || !(Power > 0))
        {
            throw new ArgumentException($"EMA inv_gamma = {InvGamma} and power = {Power} must be > 0.");
        }
    }
}
