using System.Globalization;
using System.Text;

namespace SdTune.Imaging;

/// <summary>
/// The generation parameters A1111 writes under every image and into the PNG <c>parameters</c> chunk:
/// <code>
/// a photo of a cat
/// Negative prompt: blurry
/// Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b, Model: name
/// </code>
/// <see cref="ToText"/> writes A1111's layout (field order, quoting, number format); <see cref="Parse"/> reads it
/// as A1111's <c>parse_generation_parameters</c> does. A1111's format has limits this type inherits: each prompt
/// line is trimmed of surrounding white space, and a prompt line that begins with <c>Negative prompt:</c> starts the
/// negative prompt.
/// </summary>
public sealed record GenerationInfotext
{
    private static readonly string[] KnownKeys =
        ["Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size", "Model hash", "Model", "Denoising strength", "Clip skip"];

    /// <summary>The prompt; may span lines.</summary>
    public required string Prompt { get; init; }

    /// <summary>The negative prompt; empty writes no <c>Negative prompt:</c> line.</summary>
    public string NegativePrompt { get; init; } = string.Empty;

    /// <summary>Sampling steps.</summary>
    public required int Steps { get; init; }

    /// <summary>Sampler name as A1111 spells it (<c>Euler a</c>, <c>DPM++ 2M</c>, ...).</summary>
    public required string Sampler { get; init; }

    /// <summary>Noise schedule (<c>Karras</c>, <c>Automatic</c>, ...), written right after the sampler; null omits it.</summary>
    public string? ScheduleType { get; init; }

    /// <summary>Classifier-free guidance scale.</summary>
    public required double CfgScale { get; init; }

    /// <summary>The seed.</summary>
    public required long Seed { get; init; }

    /// <summary>Image width in pixels.</summary>
    public required int Width { get; init; }

    /// <summary>Image height in pixels.</summary>
    public required int Height { get; init; }

    /// <summary>Short model hash (<see cref="ModelHashes.ShortHash"/>); null omits it.</summary>
    public string? ModelHash { get; init; }

    /// <summary>Model name (file name without extension); null omits it.</summary>
    public string? ModelName { get; init; }

    /// <summary>img2img / hires denoising strength; null omits it.</summary>
    public double? DenoisingStrength { get; init; }

    /// <summary>CLIP skip; A1111 writes it only when greater than 1, and a missing value means 1.</summary>
    public int? ClipSkip { get; init; }

    /// <summary>Further settings in order, written after the others: e.g. <c>Lora hashes</c>, <c>TI hashes</c>, <c>Version</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];

    /// <summary>The infotext in A1111's layout.</summary>
    /// <exception cref="ArgumentException">An extra key cannot be read back (not a word followed by words, spaces, '-' or '/'), or repeats a key.</exception>
    public string ToText()
    {
        var settings = new List<(string Key, string Value)>
        {
            ("Steps", Steps.ToString(CultureInfo.InvariantCulture)),
            ("Sampler", Sampler),
        };
        if (ScheduleType is not null)
        {
            settings.Add(("Schedule type", ScheduleType));
        }

        settings.Add(("CFG scale", InfotextSyntax.FormatNumber(CfgScale)));
        settings.Add(("Seed", Seed.ToString(CultureInfo.InvariantCulture)));
        settings.Add(("Size", $"{Width.ToString(CultureInfo.InvariantCulture)}x{Height.ToString(CultureInfo.InvariantCulture)}"));
        if (ModelHash is not null)
        {
            settings.Add(("Model hash", ModelHash));
        }

        if (ModelName is not null)
        {
            settings.Add(("Model", ModelName));
        }

        if (DenoisingStrength is { } denoise)
        {
            settings.Add(("Denoising strength", InfotextSyntax.FormatNumber(denoise)));
        }

        if (ClipSkip is { } clipSkip)
        {
            settings.Add(("Clip skip", clipSkip.ToString(CultureInfo.InvariantCulture)));
        }

        var seen = new HashSet<string>(KnownKeys, StringComparer.Ordinal);
        foreach (var (key, value) in Extra)
        {
            if (!InfotextSyntax.Key().IsMatch(key))
            {
                throw new ArgumentException($"Infotext key '{key}' cannot be read back: keys are a word character followed by word characters, spaces, '-' or '/'.", nameof(Extra));
            }

            if (!seen.Add(key))
            {
                throw new ArgumentException($"Infotext key '{key}' appears twice (or repeats a built-in field).", nameof(Extra));
            }

            settings.Add((key, value));
        }

        // A1111 writes a setting whose value equals its key as the bare key.
        var line = string.Join(", ", settings.Select(s => s.Key == s.Value ? s.Key : $"{s.Key}: {InfotextSyntax.Quote(s.Value)}"));
        var negative = NegativePrompt.Length > 0 ? "\nNegative prompt: " + NegativePrompt : string.Empty;
        return InfotextSyntax.Strip($"{Prompt}{negative}\n{line}");
    }

    /// <summary>
    /// Reads an infotext written by A1111, Forge, SdTune or compatible tools. Settings other than the typed ones
    /// land in <see cref="Extra"/>, in order.
    /// </summary>
    /// <exception cref="FormatException">A required setting (Steps, Sampler, CFG scale, Seed, Size) is missing or a number does not parse.</exception>
    public static GenerationInfotext Parse(string text)
    {
        var fields = ParseFields(text);
        var map = fields.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

        string Required(string key) =>
            map.TryGetValue(key, out var value)
                ? value
                : throw new FormatException($"The infotext has no '{key.Replace("-1", string.Empty, StringComparison.Ordinal).Replace("-2", string.Empty, StringComparison.Ordinal)}' setting: {Excerpt(text)}");
        string? Optional(string key) => map.TryGetValue(key, out var value) ? value : null;

        var typed = new HashSet<string>(["Prompt", "Negative prompt", "Steps", "Sampler", "Schedule type", "CFG scale", "Seed", "Size-1", "Size-2", "Model hash", "Model", "Denoising strength", "Clip skip"], StringComparer.Ordinal);
        return new GenerationInfotext
        {
            Prompt = map["Prompt"],
            NegativePrompt = map["Negative prompt"],
            Steps = ParseNumber(Required("Steps"), "Steps", int.Parse),
            Sampler = Required("Sampler"),
            ScheduleType = Optional("Schedule type"),
            CfgScale = ParseNumber(Required("CFG scale"), "CFG scale", double.Parse),
            Seed = ParseNumber(Required("Seed"), "Seed", long.Parse),
            Width = ParseNumber(Required("Size-1"), "Size", int.Parse),
            Height = ParseNumber(Required("Size-2"), "Size", int.Parse),
            ModelHash = Optional("Model hash"),
            ModelName = Optional("Model"),
            DenoisingStrength = Optional("Denoising strength") is { } d ? ParseNumber(d, "Denoising strength", double.Parse) : null,
            ClipSkip = Optional("Clip skip") is { } c ? ParseNumber(c, "Clip skip", int.Parse) : null,
            Extra = fields.Where(p => !typed.Contains(p.Key)).ToList(),
        };
    }

    /// <summary>
    /// The raw fields, as A1111's <c>parse_generation_parameters</c> finds them before applying defaults:
    /// <c>Prompt</c>, <c>Negative prompt</c>, then each setting of the last line in order (quoted values decoded;
    /// <c>WxH</c> values split into <c>key-1</c> and <c>key-2</c>; a repeated key keeps its first place and its last
    /// value; settings with an empty value are skipped). The last line counts as settings only if it holds at
    /// least three <c>key: value</c> items.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseFields(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = InfotextSyntax.Strip(text).Split('\n').ToList();
        var last = lines[^1];
        lines.RemoveAt(lines.Count - 1);
        if (InfotextSyntax.Parameter().Matches(last).Count < 3)
        {
            lines.Add(last);
            last = string.Empty;
        }

        var prompt = new StringBuilder();
        var negative = new StringBuilder();
        var inNegative = false;
        foreach (var raw in lines)
        {
            var line = InfotextSyntax.Strip(raw);
            if (line.StartsWith("Negative prompt:", StringComparison.Ordinal))
            {
                inNegative = true;
                line = InfotextSyntax.Strip(line["Negative prompt:".Length..]);
            }

            var target = inNegative ? negative : prompt;
            if (target.Length > 0)
            {
                target.Append('\n');
            }

            target.Append(line);
        }

        var fields = new List<KeyValuePair<string, string>>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        void Set(string key, string value)
        {
            if (index.TryGetValue(key, out var at))
            {
                fields[at] = new(key, value);
            }
            else
            {
                index[key] = fields.Count;
                fields.Add(new(key, value));
            }
        }

        Set("Prompt", prompt.ToString());
        Set("Negative prompt", negative.ToString());
        foreach (System.Text.RegularExpressions.Match match in InfotextSyntax.Parameter().Matches(last))
        {
            var key = match.Groups[1].Value;
            var value = match.Groups[2].Value;
            if (value.Length == 0)
            {
                continue;
            }

            value = InfotextSyntax.Unquote(value);
            var size = InfotextSyntax.ImageSize().Match(value);
            if (size.Success)
            {
                Set(key + "-1", size.Groups[1].Value);
                Set(key + "-2", size.Groups[2].Value);
            }
            else
            {
                Set(key, value);
            }
        }

        return fields;
    }

    /// <inheritdoc />
    public bool Equals(GenerationInfotext? other) =>
        other is not null
        && Prompt == other.Prompt && NegativePrompt == other.NegativePrompt && Steps == other.Steps
        && Sampler == other.Sampler && ScheduleType == other.ScheduleType && CfgScale.Equals(other.CfgScale)
        && Seed == other.Seed && Width == other.Width && Height == other.Height && ModelHash == other.ModelHash
        && ModelName == other.ModelName && Nullable.Equals(DenoisingStrength, other.DenoisingStrength)
        && ClipSkip == other.ClipSkip && Extra.SequenceEqual(other.Extra);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Prompt, NegativePrompt, Steps, Sampler, CfgScale, Seed, Width, Height);

    private static T ParseNumber<T>(string value, string key, Func<string, NumberStyles, IFormatProvider, T> parse)
    {
        try
        {
            var styles = typeof(T) == typeof(double) ? NumberStyles.Float : NumberStyles.Integer;
            return parse(value, styles, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new FormatException($"Infotext setting '{key}' has the value '{value}', which is not a valid {(typeof(T) == typeof(double) ? "number" : "whole number")}.", e);
        }
    }

    private static string Excerpt(string text)
    {
        var flat = text.ReplaceLineEndings(" ");
        return flat.Length <= 120 ? $"\"{flat}\"" : $"\"{flat[..117]}...\"";
    }
}
