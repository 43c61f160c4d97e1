using System.Globalization;
using SdTune.Models;

namespace SdTune.Adapters;

/// <summary>
/// The named block-weight presets of the A1111 "LoRA Block Weight" extension and the parsing of a block-weight text
/// (a preset name or comma-separated numbers). The extension ships its defaults as 17-value SD 1.x/2.x vectors
/// (<c>BASE, IN01, IN02, IN04, IN05, IN07, IN08, M00, OUT03…OUT11</c>); for SDXL the same names resolve to 12-value
/// vectors (<c>BASE, IN04, IN05, IN07, IN08, M00, OUT00…OUT05</c>) with the same meaning: shallow input blocks are SDXL's
/// 640-channel IN04/IN05, deep ones its 1280-channel IN07/IN08, deep output blocks OUT00…OUT02 and shallow ones
/// OUT03…OUT05. Every preset but <c>NONE</c> and <c>ALL0.5</c> keeps the text encoders (<c>BASE</c>) at 1.
/// </summary>
public static class LoraBlockWeightPresets
{
    private static readonly (string Name, double[] Sd, double[] Sdxl)[] Table =
    [
        ("NONE", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("ALL", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        ("INS", [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("IND", [1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]),
        ("INALL", [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]),
        ("MIDD", [1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0]),
        ("OUTD", [1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0]),
        ("OUTS", [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]),
        ("OUTALL", [1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]),
        ("ALL0.5", [.. Enumerable.Repeat(0.5, 17)], [.. Enumerable.Repeat(0.5, 12)]),
    ];

    /// <summary>The vector lengths <see cref="LoraBlockWeights"/> accepts.</summary>
    public static IReadOnlyList<int> ValidLengths { get; } = [12, 17, 20, 26];

    /// <summary>The preset names, in the extension's order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Table.Select(p => p.Name)];

    /// <summary>The vector of a preset for a model family: 12 values for SDXL, 17 for SD 1.x/2.x. Names are case-insensitive.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static IReadOnlyList<double> Get(string name, SdArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(name);
        var preset = Table.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));
        if (preset.Name is null)
        {
            throw new ArgumentException($"Unknown block-weight preset '{name}'. Valid presets: {string.Join(", ", Names)}.", nameof(name));
        }

        return architecture == SdArchitecture.SdxlBase ? preset.Sdxl : preset.Sd;
    }

    /// <summary>
    /// Reads block weights written as a preset name or as comma-separated numbers, and checks the length.
    /// </summary>
    /// <param name="text">A preset name (<see cref="Names"/>) or numbers such as <c>1,0,0,0,1,1,1,1,1,1,1,1</c>.</param>
    /// <param name="architecture">The model family, which picks the preset's form.</param>
    /// <param name="source">What gave the text (an option or tag argument such as <c>--weights</c> or <c>lbw</c>), for messages.</param>
    /// <exception cref="ArgumentException">An unknown name, a value that is not a finite number, or a wrong number of values; the message names <paramref name="source"/>.</exception>
    public static IReadOnlyList<double> Parse(string text, SdArchitecture architecture, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 1 && !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            try
            {
                return Get(parts[0], architecture);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{source}: {e.Message} Or give {Lengths()} comma-separated numbers.", nameof(text), e);
            }
        }

        var values = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                throw new ArgumentException($"{source}: block weight {i + 1} ('{parts[i]}') is not a number.", nameof(text));
            }
        }

        CheckLength(values.Length, source);
        return values;
    }

    /// <summary>Checks a vector length against <see cref="ValidLengths"/>.</summary>
    /// <exception cref="ArgumentException">Not a valid length; the message names <paramref name="source"/> and lists the valid lengths.</exception>
    public static void CheckLength(int count, string source)
    {
        if (!ValidLengths.Contains(count))
        {
            throw new ArgumentException(
                $"{source}: block weights need {Lengths()} values (17 or 26 for SD 1.x/2.x, 12 or 20 for SDXL), got {count}. " +
                $"Presets: {string.Join(", ", Names)}.", nameof(count));
        }
    }

    private static string Lengths() => string.Join(", ", ValidLengths.Take(ValidLengths.Count - 1)) + " or " + ValidLengths[^1];
}
