using System.Globalization;
using SdTune.Options;
using SdTune.Training.Data;
using Tomlyn;
using Tomlyn.Model;

namespace SdTune.Training;

/// <summary>Reads <see cref="TrainingConfig"/> from TOML and <c>key=value</c> overrides, through <see cref="TrainingConfigKeys"/>.</summary>
internal static class TrainingConfigParser
{
    /// <summary>How overrides are named in messages.</summary>
    public const string OverrideSource = "override";

    public static TrainingConfig Parse(string toml, string source, string? baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(toml);
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(toml, new TomlSerializerOptions { SourceName = source }) ?? new TomlTable();
        }
        catch (TomlException e)
        {
            throw new TrainingConfigException(source, $"invalid TOML: {e.Message}", e);
        }

        var config = new TrainingConfig();
        foreach (var (name, raw) in root)
        {
            // kohya's config files group keys in tables ([model_arguments], [training_arguments], ...); their keys are flat.
            if (raw is TomlTable table)
            {
                foreach (var (inner, value) in table)
                {
                    config = Set(config, inner, value, baseDirectory, source);
                }
            }
            else
            {
                config = Set(config, name, raw, baseDirectory, source);
            }
        }

        return config;
    }

    public static TrainingConfig ApplyOverrides(TrainingConfig config, IEnumerable<string> overrides)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(overrides);
        foreach (var item in overrides)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new TrainingConfigException(item, "an override must be written key=value.", source: OverrideSource);
            }

            var name = item[..eq].Trim().Replace('-', '_');
            var text = item[(eq + 1)..].Trim();
            config = Set(config, name, ParseOverrideValue(name, text), Directory.GetCurrentDirectory(), OverrideSource);
        }

        return config;
    }

    /// <summary>"512" or "512,768" (width,height) as a size; each side within <see cref="TrainingConfigKeys.ResolutionSide"/>.</summary>
    public static PixelSize ParseResolution(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length is 1 or 2 && parts.All(p => long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            var sides = parts.Select(p => long.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            foreach (var side in sides)
            {
                if (TrainingConfigKeys.ResolutionSide.Problem(side) is { } problem)
                {
                    throw new TrainingConfigException("resolution", $"'{text}': {problem}");
                }
            }

            return new PixelSize((int)sides[0], (int)sides[^1]);
        }

        throw new TrainingConfigException("resolution", $"'{text}' is not a size; write \"512\" or \"512,768\" (width,height).");
    }

    public static TorchSharp.torch.ScalarType? SaveDType(string? savePrecision) => savePrecision switch
    {
        null => null,
        "float" or "fp32" => TorchSharp.torch.ScalarType.Float32,
        "fp16" => TorchSharp.torch.ScalarType.Float16,
        "bf16" => TorchSharp.torch.ScalarType.BFloat16,
        _ => throw new TrainingConfigException("save_precision", $"\"{savePrecision}\" is not one of float, fp16, bf16."),
    };

    private static object ParseOverrideValue(string name, string text)
    {
        if (text.Length == 0)
        {
            return "";
        }

        // Unquoted text for a string key is the string itself (so "2024-01-01" or "inf" stay names); otherwise the
        // value is read as TOML first (numbers, booleans, quoted strings, arrays) and a bare word is a string.
        var known = TrainingConfigKeys.ByName.TryGetValue(name, out var key);
        if (known && key!.Kind is TrainingConfigKind.Text or TrainingConfigKind.Precision && text[0] is not ('"' or '\''))
        {
            return text;
        }

        try
        {
            var table = TomlSerializer.Deserialize<TomlTable>($"v = {text}");
            if (table is not null && table.TryGetValue("v", out var parsed))
            {
                return parsed;
            }
        }
        catch (TomlException)
        {
        }

        return known && key!.Kind == TrainingConfigKind.TextList ? new TomlArray { text } : text;
    }

    private static TrainingConfig Set(TrainingConfig config, string name, object? raw, string? baseDirectory, string source)
    {
        if (!TrainingConfigKeys.ByName.TryGetValue(name, out var key))
        {
            var suggestion = NearestNames.Suggestion(name, TrainingConfigKeys.All.Select(k => k.Name));
            throw new TrainingConfigException(name, "unknown key" + (suggestion is null ? "." : $"; {suggestion}"), source: source);
        }

        var value = Convert(key, raw, source);
        if (key.IsPath && value is string path && baseDirectory is not null && path.Length > 0)
        {
            value = Path.GetFullPath(Path.Combine(baseDirectory, path));
        }

        return key.Set(config, value);
    }

    private static object? Convert(TrainingConfigKey key, object? raw, string source)
    {
        if (raw is null || (key.Nullable && raw is string { Length: 0 } && key.Kind != TrainingConfigKind.Text))
        {
            return key.Nullable ? null : throw Wrong(key, raw, source);
        }

        switch (key.Kind)
        {
            case TrainingConfigKind.Text:
                return raw switch
                {
                    string text => key.Nullable && text.Length == 0 ? null : text,
                    long or double => System.Convert.ToString(raw, CultureInfo.InvariantCulture),
                    _ => throw Wrong(key, raw, source),
                };
            case TrainingConfigKind.Integer:
                var integer = raw switch
                {
                    long l => l,
                    string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
                    _ => throw Wrong(key, raw, source),
                };
                return integer is >= int.MinValue and <= int.MaxValue ? (int)integer
                    : throw new TrainingConfigException(key.Name, key.Range?.Problem(integer) ?? $"{integer} does not fit a 32-bit integer.", source: source);
            case TrainingConfigKind.Long:
                return raw is long l2 ? l2
                    : raw is string s2 && long.TryParse(s2, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i2) ? i2
                    : throw Wrong(key, raw, source);
            case TrainingConfigKind.Real:
                return raw switch
                {
                    double d => d,
                    long l3 => (double)l3,
                    string s3 when double.TryParse(s3, NumberStyles.Float, CultureInfo.InvariantCulture, out var d3) => d3,
                    _ => throw Wrong(key, raw, source),
                };
            case TrainingConfigKind.Flag:
                return raw switch
                {
                    bool b => b,
                    string s4 when bool.TryParse(s4, out var b4) => b4,
                    _ => throw Wrong(key, raw, source),
                };
            case TrainingConfigKind.TextList:
                return raw switch
                {
                    TomlArray array when array.All(x => x is string or long or double or bool) =>
                        (IReadOnlyList<string>)[.. array.Select(x => x is string s5 ? s5 : System.Convert.ToString(x, CultureInfo.InvariantCulture)!.ToLowerInvariant())],
                    string s6 => (IReadOnlyList<string>)[.. s6.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                    _ => throw Wrong(key, raw, source),
                };
            default:
                return raw switch
                {
                    string p when p is "no" or "fp32" or "float" => MixedPrecision.No,
                    string p when p is "bf16" => MixedPrecision.BFloat16,
                    string p when p is "fp16" => MixedPrecision.Float16,
                    _ => throw new TrainingConfigException(key.Name, $"{Describe(raw)} is not a precision; use \"no\", \"bf16\" or \"fp16\".", source: source),
                };
        }
    }

    private static TrainingConfigException Wrong(TrainingConfigKey key, object? raw, string source)
    {
        var expected = key.Kind switch
        {
            TrainingConfigKind.Text => "a string",
            TrainingConfigKind.Integer or TrainingConfigKind.Long => "an integer",
            TrainingConfigKind.Real => "a number",
            TrainingConfigKind.Flag => "true or false",
            TrainingConfigKind.TextList => "an array of strings",
            _ => "a value",
        };
        return new TrainingConfigException(key.Name, $"expected {expected}, got {Describe(raw)}.", source: source);
    }

    private static string Describe(object? value) => value switch
    {
        null => "nothing",
        string s => $"the string \"{s}\"",
        bool b => b ? "true" : "false",
        double d => TrainingConfigWriter.FormatDouble(d),
        long => System.Convert.ToString(value, CultureInfo.InvariantCulture)!,
        TomlArray a => $"an array of {a.Count}",
        TomlTable => "a table",
        _ => value.GetType().Name,
    };
}
