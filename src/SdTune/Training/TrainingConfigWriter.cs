using System.Globalization;
using System.Text;

namespace SdTune.Training;

/// <summary>Writes <see cref="TrainingConfig"/> values back as TOML that <see cref="TrainingConfigParser"/> reads.</summary>
internal static class TrainingConfigWriter
{
    /// <summary>Every key that has a value, in table order.</summary>
    public static string Write(TrainingConfig config)
    {
        var sb = new StringBuilder();
        foreach (var key in TrainingConfigKeys.All)
        {
            if (key.Get(config) is { } value)
            {
                sb.Append(Line(key, value)).Append('\n');
            }
        }

        return sb.ToString();
    }

    /// <summary>"name = value".</summary>
    public static string Line(TrainingConfigKey key, object value) => key.Name + " = " + Format(key, value);

    /// <summary>A value as TOML.</summary>
    public static string Format(TrainingConfigKey key, object value) => key.Kind switch
    {
        TrainingConfigKind.Text => Quote((string)value),
        TrainingConfigKind.Flag => (bool)value ? "true" : "false",
        TrainingConfigKind.Real => FormatDouble((double)value),
        TrainingConfigKind.TextList => "[" + string.Join(", ", ((IReadOnlyList<string>)value).Select(Quote)) + "]",
        TrainingConfigKind.Precision => (MixedPrecision)value switch
        {
            MixedPrecision.BFloat16 => "\"bf16\"",
            MixedPrecision.Float16 => "\"fp16\"",
            _ => "\"no\"",
        },
        _ => System.Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    /// <summary>A double as TOML: always with a decimal point or exponent, so it reads back as a float.</summary>
    public static string FormatDouble(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) || text.Contains("Infinity", StringComparison.Ordinal) || text == "NaN"
            ? text.Replace("E", "e", StringComparison.Ordinal)
            : text + ".0";
    }

    /// <summary>A TOML basic string.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            _ = c switch
            {
                '"' => sb.Append("\\\""),
                '\\' => sb.Append("\\\\"),
                '\n' => sb.Append("\\n"),
                '\r' => sb.Append("\\r"),
                '\t' => sb.Append("\\t"),
                _ when char.IsControl(c) => sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => sb.Append(c),
            };
        }

        return sb.Append('"').ToString();
    }
}
