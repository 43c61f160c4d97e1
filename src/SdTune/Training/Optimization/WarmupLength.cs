using System.Globalization;

namespace SdTune.Training.Optimization;

/// <summary>
/// A warm-up length as users write it: a step count ("500"), a ratio of the total steps below 1 ("0.05"), or a
/// percentage ("5%"). Ratios are turned into steps by <see cref="Resolve"/>, rounding down.
/// </summary>
public readonly record struct WarmupLength
{
    private WarmupLength(long steps, double? ratio)
    {
        FixedSteps = steps;
        Ratio = ratio;
    }

    /// <summary>The step count, when the length was given as one.</summary>
    public long FixedSteps { get; }

    /// <summary>The ratio of the total steps, when the length was given as a ratio or percentage.</summary>
    public double? Ratio { get; }

    /// <summary>No warm-up.</summary>
    public static WarmupLength None => default;

    /// <summary>A fixed number of steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative.</exception>
    public static WarmupLength FromSteps(long steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        return new WarmupLength(steps, null);
    }

    /// <summary>A ratio in [0, 1) of the total steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The ratio is outside [0, 1).</exception>
    public static WarmupLength FromRatio(double ratio)
    {
        if (!(ratio >= 0 && ratio < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "A warm-up ratio must be in [0, 1).");
        }

        return new WarmupLength(0, ratio);
    }

    /// <summary>Parses "500", "0.05" or "5%".</summary>
    /// <exception cref="FormatException">The text is none of these; the message quotes it.</exception>
    public static WarmupLength Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var invariant = CultureInfo.InvariantCulture;
        if (trimmed.EndsWith('%'))
        {
            if (double.TryParse(trimmed[..^1], NumberStyles.Float, invariant, out var percent) && percent >= 0 && percent < 100)
            {
                return new WarmupLength(0, percent / 100.0);
            }
        }
        else if (long.TryParse(trimmed, NumberStyles.Integer, invariant, out var steps) && steps >= 0)
        {
            return new WarmupLength(steps, null);
        }
        else if (double.TryParse(trimmed, NumberStyles.Float, invariant, out var ratio) && ratio >= 0 && ratio < 1)
        {
            return new WarmupLength(0, ratio);
        }

        throw new FormatException($"Warm-up '{text}' is not a step count (\"500\"), a ratio below 1 (\"0.05\") or a percentage below 100 (\"5%\").");
    }

    /// <summary>The warm-up in steps for a run of <paramref name="totalSteps"/> steps.</summary>
    public long Resolve(long totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        // The tiny allowance keeps 0.29 * 100 (28.999999999999996 in binary) at 29.
        return Ratio is { } ratio ? (long)Math.Floor((ratio * totalSteps) + 1e-9) : FixedSteps;
    }

    /// <inheritdoc />
    public override string ToString() =>
        Ratio is { } ratio ? (ratio * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%" : FixedSteps.ToString(CultureInfo.InvariantCulture);
}
