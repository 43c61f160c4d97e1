using System.Globalization;
using SkiaSharp;

namespace SdTune.Imaging.Preprocessors;

/// <summary>The preprocessors by name; adding one is one new file plus one line here.</summary>
public static class PreprocessorRegistry
{
    private static readonly IControlPreprocessor[] Entries =
    [
        new CannyPreprocessor(),
        new ThresholdPreprocessor(),
        new InvertPreprocessor(),
        new GradientPreprocessor(),
    ];

    /// <summary>The registered names, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Entries.Select(e => e.Name)];

    /// <summary>All registered preprocessors.</summary>
    public static IReadOnlyList<IControlPreprocessor> All => Entries;

    /// <summary>The preprocessor called <paramref name="name"/> (any case, surrounding spaces ignored).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static IControlPreprocessor Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Entries.FirstOrDefault(e => string.Equals(e.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown preprocessor '{name}'. Valid preprocessors: {string.Join(", ", Names)}.");
    }

    /// <summary>
    /// Runs the preprocessor called <paramref name="name"/> with the given settings (missing ones take their defaults).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name, a setting the preprocessor does not take, or a value out of range; the message names the setting as <c>--name</c>.</exception>
    public static SKBitmap Run(string name, SKBitmap image, IReadOnlyDictionary<string, double>? given = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        var preprocessor = Find(name);
        return preprocessor.Apply(image, Resolve(preprocessor, given ?? new Dictionary<string, double>()));
    }

    /// <summary>Every setting of <paramref name="preprocessor"/> with its value: the given one, checked, or the default.</summary>
    /// <exception cref="ArgumentException">A setting it does not take, or a value out of range.</exception>
    public static IReadOnlyDictionary<string, double> Resolve(IControlPreprocessor preprocessor, IReadOnlyDictionary<string, double> given)
    {
        ArgumentNullException.ThrowIfNull(preprocessor);
        ArgumentNullException.ThrowIfNull(given);
        foreach (var key in given.Keys.Where(k => preprocessor.Settings.All(s => s.Name != k)))
        {
            var takes = preprocessor.Settings.Count == 0 ? "it takes no settings" : $"it takes {string.Join(", ", preprocessor.Settings.Select(s => "--" + s.Name))}";
            throw new ArgumentException($"--{key} does not apply to the {preprocessor.Name} preprocessor ({takes}).");
        }

        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var setting in preprocessor.Settings)
        {
            var value = given.TryGetValue(setting.Name, out var v) ? v : setting.Default;
            if (!(value >= setting.Min && value <= setting.Max))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"--{setting.Name}: {value} is out of range for {preprocessor.Name}; expected a number from {setting.Min} to {setting.Max}."));
            }

            values[setting.Name] = value;
        }

        return values;
    }
}
