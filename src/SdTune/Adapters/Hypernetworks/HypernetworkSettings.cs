using System.Globalization;

namespace SdTune.Adapters.Hypernetworks;

/// <summary>
/// The shape of a hypernetwork's modules (A1111's <c>HypernetworkModule</c> arguments): the layer structure as multiples
/// of the context width (starts and ends with 1; <c>1, 2, 1</c> is 768 → 1536 → 768), the activation, the weight
/// initialisation, LayerNorm after each Linear, whether the last Linear is activated too, and the dropout probability
/// after each Linear (one entry per layer-structure entry; the first is unused).
/// </summary>
public sealed record HypernetworkSettings
{
    /// <summary>Layer widths as multiples of the context width.</summary>
    public IReadOnlyList<double> LayerStructure { get; init; } = [1, 2, 1];

    /// <summary>The activation (<see cref="HypernetworkActivations.Names"/>); <c>linear</c> for none.</summary>
    public string Activation { get; init; } = HypernetworkActivations.Linear;

    /// <summary>How new weights are initialised.</summary>
    public HypernetworkWeightInit WeightInit { get; init; } = HypernetworkWeightInit.Normal;

    /// <summary>A LayerNorm after every Linear.</summary>
    public bool LayerNorm { get; init; }

    /// <summary>Apply the activation after the last Linear too.</summary>
    public bool ActivateOutput { get; init; }

    /// <summary>Dropout probability after Linear i is entry i + 1; null means none anywhere.</summary>
    public IReadOnlyList<double>? DropoutStructure { get; init; }

    /// <summary>
    /// A1111's dropout structure for a layer structure: none → all zeros; else <c>[0] + [0.3]·(n − 3) + [0.3 if
    /// lastLayerDropout else 0] + [0]</c> (for <c>1, 2, 1</c>: <c>[0, 0.3 or 0, 0]</c>).
    /// </summary>
    public static IReadOnlyList<double> DropoutStructureFor(IReadOnlyList<double> layerStructure, bool useDropout, bool lastLayerDropout)
    {
        ArgumentNullException.ThrowIfNull(layerStructure);
        var n = layerStructure.Count;
        if (!useDropout || n < 2)
        {
            return [.. Enumerable.Repeat(0.0, n)];
        }

        return [0.0, .. Enumerable.Repeat(0.3, Math.Max(0, n - 3)), lastLayerDropout ? 0.3 : 0.0, 0.0];
    }

    /// <summary>Reads a layer structure written as A1111's UI does, e.g. <c>"1, 2, 1"</c>.</summary>
    /// <exception cref="ArgumentException">Not a comma-separated list of numbers.</exception>
    public static IReadOnlyList<double> ParseLayerStructure(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. text.Split(',', StringSplitOptions.TrimEntries).Select(part =>
            double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
                ? value
                : throw new ArgumentException($"layer structure \"{text}\": \"{part}\" is not a number (write e.g. 1,2,1)."))];
    }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">What is wrong: the structure, the activation or the dropout structure.</exception>
    public void Validate()
    {
        var s = LayerStructure;
        if (s.Count < 2 || s[0] != 1 || s[^1] != 1)
        {
            throw new ArgumentException($"layer structure [{Describe(s)}] must have at least two entries and start and end with 1 (e.g. 1, 2, 1).");
        }

        if (s.Any(v => !(v > 0)))
        {
            throw new ArgumentException($"layer structure [{Describe(s)}]: every entry must be positive.");
        }

        HypernetworkActivations.Check(Activation);
        if (DropoutStructure is { } d)
        {
            if (d.Count != s.Count)
            {
                throw new ArgumentException($"dropout structure [{Describe(d)}] must have as many entries as the layer structure [{Describe(s)}].");
            }

            if (d.Any(p => p is < 0 or >= 1 || double.IsNaN(p)))
            {
                throw new ArgumentException($"dropout structure [{Describe(d)}]: every probability must be in [0, 1).");
            }
        }
    }

    /// <summary>The numbers as a comma-separated list, invariant culture.</summary>
    internal static string Describe(IEnumerable<double> values) => string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
