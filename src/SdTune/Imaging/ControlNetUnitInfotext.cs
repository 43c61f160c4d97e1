using System.Globalization;
using System.Text.RegularExpressions;

namespace SdTune.Imaging;

/// <summary>
/// One control of a generation as sd-webui-controlnet records it in the infotext: the setting
/// <c>ControlNet 0: "Module: canny, Model: control_sd15_canny [fef5e48e], Weight: 1, Resize Mode: Crop and Resize,
/// Guidance Start: 0, Guidance End: 1, Control Mode: Balanced"</c>. Values hold no comma or colon (the extension
/// writes nothing for a unit that would); <see cref="Parse"/> keeps fields it does not know in <see cref="Other"/>.
/// T2I-Adapters are recorded the same way (the extension runs them as ControlNet units).
/// </summary>
public sealed partial record ControlNetUnitInfotext
{
    /// <summary>The extension's "Control Mode" of a plain control.</summary>
    public const string Balanced = "Balanced";

    /// <summary>The extension's "Control Mode" that replaced its guess mode (the control only on the conditional pass).</summary>
    public const string ControlNetMoreImportant = "ControlNet is more important";

    /// <summary>The preprocessor (<c>canny</c>), or <c>none</c>.</summary>
    public string Module { get; init; } = "none";

    /// <summary>The model: its name, with the file's short hash in brackets when it is one file.</summary>
    public required string Model { get; init; }

    /// <summary>The conditioning scale.</summary>
    public double Weight { get; init; } = 1;

    /// <summary>"Crop and Resize", "Just Resize" or "Resize and Fill".</summary>
    public string ResizeMode { get; init; } = "Crop and Resize";

    /// <summary>The fraction of the steps at which the control starts.</summary>
    public double GuidanceStart { get; init; }

    /// <summary>The fraction of the steps at which the control ends.</summary>
    public double GuidanceEnd { get; init; } = 1;

    /// <summary><see cref="Balanced"/> or <see cref="ControlNetMoreImportant"/> (guess mode).</summary>
    public string ControlMode { get; init; } = Balanced;

    /// <summary>Fields written by other tools that this type does not model, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Other { get; init; } = [];

    /// <summary>The infotext key of control <paramref name="index"/>: <c>ControlNet 0</c>, <c>ControlNet 1</c>, ...</summary>
    public static string Key(int index) => string.Create(CultureInfo.InvariantCulture, $"ControlNet {index}");

    /// <summary>The unit's value, fields in the extension's order.</summary>
    public string ToText()
    {
        List<KeyValuePair<string, string>> fields =
        [
            new("Module", Module), new("Model", Model), new("Weight", InfotextSyntax.FormatNumber(Weight)), new("Resize Mode", ResizeMode),
            new("Guidance Start", InfotextSyntax.FormatNumber(GuidanceStart)), new("Guidance End", InfotextSyntax.FormatNumber(GuidanceEnd)),
            new("Control Mode", ControlMode), .. Other,
        ];
        foreach (var (key, value) in fields)
        {
            if (value.Contains(',', StringComparison.Ordinal) || value.Contains(':', StringComparison.Ordinal))
            {
                throw new ArgumentException($"ControlNet infotext field '{key}' is '{value}': values cannot hold ',' or ':'.");
            }
        }

        return string.Join(", ", fields.Select(f => $"{f.Key}: {f.Value}"));
    }

    /// <summary>Reads a unit's value (<c>Module: canny, Model: ..., ...</c>).</summary>
    /// <exception cref="FormatException">An item is not <c>Key: value</c>, the model is missing, or a number does not parse.</exception>
    public static ControlNetUnitInfotext Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var fields = new List<KeyValuePair<string, string>>();
        foreach (var item in text.Split(','))
        {
            var parts = item.Trim().Split(": ");
            if (parts.Length != 2 || parts[0].Length == 0)
            {
                throw new FormatException($"ControlNet infotext item '{item.Trim()}' is not 'Key: value' (in \"{text}\").");
            }

            fields.Add(new(parts[0], parts[1]));
        }

        string? Take(string key)
        {
            var at = fields.FindIndex(f => f.Key == key);
            if (at < 0)
            {
                return null;
            }

            var value = fields[at].Value;
            fields.RemoveAt(at);
            return value;
        }

        double Number(string key, double fallback) => Take(key) is { } v
            ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw new FormatException($"ControlNet infotext field '{key}' has the value '{v}', which is not a number.")
            : fallback;

        return new ControlNetUnitInfotext
        {
            Module = Take("Module") ?? "none",
            Model = Take("Model") ?? throw new FormatException($"ControlNet infotext has no 'Model' field: \"{text}\"."),
            Weight = Number("Weight", 1),
            ResizeMode = Take("Resize Mode") ?? "Crop and Resize",
            GuidanceStart = Number("Guidance Start", 0),
            GuidanceEnd = Number("Guidance End", 1),
            ControlMode = Take("Control Mode") ?? Balanced,
            Other = fields,
        };
    }

    /// <summary>The units of an infotext, in the order of their <c>ControlNet N</c> settings.</summary>
    /// <exception cref="FormatException">A unit's value does not parse.</exception>
    public static IReadOnlyList<ControlNetUnitInfotext> From(GenerationInfotext infotext)
    {
        ArgumentNullException.ThrowIfNull(infotext);
        return [.. infotext.Extra.Where(e => UnitKey().IsMatch(e.Key)).Select(e => Parse(e.Value))];
    }

    [GeneratedRegex(@"^ControlNet \d+$", RegexOptions.CultureInvariant)]
    private static partial Regex UnitKey();
}
