namespace SdTune.Adapters;

/// <summary>How to create one trainable adapter module.</summary>
/// <param name="Rank">The rank (kohya <c>network_dim</c> / <c>conv_dim</c>).</param>
/// <param name="Alpha">Scale numerator: scale = alpha / rank; null or 0 means alpha = rank (scale 1).</param>
/// <param name="Dropout">Dropout on the rank activations (kohya <c>network_dropout</c>), training only.</param>
/// <param name="RankDropout">Probability of dropping each rank channel per sample, training only.</param>
/// <param name="ModuleDropout">Probability of skipping the whole module for a step, training only.</param>
/// <param name="Arguments">Algorithm-specific options (LyCORIS names: <c>factor</c>, <c>use_tucker</c>, <c>decompose_both</c>, ...).</param>
public sealed record AdapterSettings(
    int Rank,
    double? Alpha = null,
    double Dropout = 0,
    double RankDropout = 0,
    double ModuleDropout = 0,
    IReadOnlyDictionary<string, string>? Arguments = null)
{
    /// <summary>The effective alpha: <see cref="Alpha"/>, or the rank when it is null or 0.</summary>
    public double ResolvedAlpha => Alpha is { } a && a != 0 ? a : Rank;

    /// <summary>Reads a boolean algorithm argument ("true"/"false", case-insensitive).</summary>
    /// <exception cref="ArgumentException">The value is not a boolean; the message names the argument.</exception>
    public bool Flag(string name)
    {
        if (Arguments is null || !Arguments.TryGetValue(name, out var text))
        {
            return false;
        }

        return bool.TryParse(text, out var value)
            ? value
            : throw new ArgumentException($"Adapter argument '{name}' must be true or false, got '{text}'.", nameof(Arguments));
    }

    /// <summary>Reads an integer algorithm argument, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ArgumentException">The value is not an integer; the message names the argument.</exception>
    public int Integer(string name, int fallback)
    {
        if (Arguments is null || !Arguments.TryGetValue(name, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"Adapter argument '{name}' must be an integer, got '{text}'.", nameof(Arguments));
    }
}
