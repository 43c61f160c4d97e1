namespace SdTune.Training.Optimization;

/// <summary>Hyper-parameters of one optimizer kind (the learning rate lives on each <see cref="ParameterGroup"/>).</summary>
public abstract record OptimizerOptions
{
    private protected OptimizerOptions()
    {
    }

    /// <summary>Throws if a value is out of range; the message names the field.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public abstract void Validate();

    private protected static void RequireBeta(double value, string field, bool allowOne = false)
    {
        if (!(value >= 0 && (allowOne ? value <= 1 : value < 1)))
        {
            throw new ArgumentException($"{field} = {value} must be in [0, 1{(allowOne ? "]" : ")")}.");
        }
    }

    // Optimizer hyper-parameters meet float32 parameters and states in the update, so they must fit in float32.
    private protected static void RequireNonNegative(double value, string field)
    {
        if (Options.NumericRange.NonNegativeFloat32.Problem(value) is { } problem)
        {
            throw new ArgumentException($"{field}: {problem}");
        }
    }

    private protected static void RequirePositive(double value, string field)
    {
        if (Options.NumericRange.PositiveFloat32.Problem(value) is { } problem)
        {
            throw new ArgumentException($"{field}: {problem}");
        }
    }
}
