using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SdTune.IO;

/// <summary>
/// JSON text exactly as Python's <c>json.dumps(value)</c> writes it with its defaults, and Python's <c>str</c> of a
/// float: what sd-scripts stores in the JSON-valued <c>ss_*</c> metadata keys (<c>ss_network_args</c>,
/// <c>ss_datasets</c>, <c>ss_dataset_dirs</c>, <c>ss_tag_frequency</c>, <c>ss_bucket_info</c>) and the plain ones
/// (<c>ss_learning_rate</c>, ...). Items are separated by <c>", "</c>, keys from values by <c>": "</c>, strings are
/// ASCII-only (<see cref="ReferenceJsonEncoder.PythonAscii"/>), objects keep their order, C# integers are Python ints
/// and C# floating-point numbers Python floats.
/// </summary>
internal static class PythonJson
{
    /// <summary><c>json.dumps(value)</c>.</summary>
    /// <exception cref="ArgumentException">A string holds a lone surrogate, or a value is not a number, string or boolean.</exception>
    public static string Serialize(JsonNode? value)
    {
        var text = new StringBuilder();
        Write(text, value);
        return text.ToString();
    }

    /// <summary>
    /// Python's <c>str(x)</c> (= <c>repr(x)</c>) of a float: the shortest digits that read back as <paramref name="value"/>,
    /// positional with at least one decimal ("1.0", "0.0001") when the decimal exponent is from -4 to 15, otherwise
    /// scientific with a signed exponent of at least two digits ("1e-05", "1.5e+16"); "nan", "inf", "-inf".
    /// </summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }

        // .NET's "R" is the shortest round-trip form, as Python's repr; only the layout differs.
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        var sign = r.StartsWith('-') ? "-" : "";
        r = r.TrimStart('-');
        var e = r.IndexOfAny(['E', 'e']);
        var exponent = e < 0 ? 0 : int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var mantissa = e < 0 ? r : r[..e];
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var integerDigits = dot < 0 ? mantissa.Length : dot;
        var digits = mantissa.Replace(".", "", StringComparison.Ordinal);
        var leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        if (digits.Length == 0)
        {
            return sign + "0.0";
        }

        // value = 0.d1d2...dn x 10^point
        var point = integerDigits + exponent - leadingZeros;
        if (point is > -4 and <= 16)
        {
            return sign + (point <= 0 ? "0." + new string('0', -point) + digits
                : point >= digits.Length ? digits + new string('0', point - digits.Length) + ".0"
                : digits[..point] + "." + digits[point..]);
        }

        var power = point - 1;
        var fraction = digits.Length > 1 ? "." + digits[1..] : "";
        return $"{sign}{digits[0]}{fraction}e{(power < 0 ? '-' : '+')}{Math.Abs(power).ToString("00", CultureInfo.InvariantCulture)}";
    }

    private static void Write(StringBuilder text, JsonNode? node)
    {
        switch (node)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject obj:
                text.Append('{');
                var first = true;
                foreach (var (key, child) in obj)
                {
                    text.Append(first ? "" : ", ");
                    first = false;
                    String(text, key);
                    text.Append(": ");
                    Write(text, child);
                }

                text.Append('}');
                break;
            case JsonArray array:
                text.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    text.Append(i == 0 ? "" : ", ");
                    Write(text, array[i]);
                }

                text.Append(']');
                break;
            case JsonValue value:
                Value(text, value);
                break;
        }
    }

    private static void Value(StringBuilder text, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                String(text, value.GetValue<string>());
                return;
            case JsonValueKind.True:
                text.Append("true");
                return;
            case JsonValueKind.False:
                text.Append("false");
                return;
            case JsonValueKind.Null:
                text.Append("null");
                return;
            case JsonValueKind.Number:
                text.Append(Number(value));
                return;
            default:
                throw new ArgumentException($"A {value.GetValueKind()} value has no Python JSON form.", nameof(value));
        }
    }

    private static string Number(JsonValue value)
    {
        if (value.TryGetValue<double>(out var d))
        {
            return JsonFloat(d);
        }

        if (value.TryGetValue<float>(out var f))
        {
            return JsonFloat(f);
        }

        if (value.TryGetValue<JsonElement>(out var element))
        {
            var raw = element.GetRawText();
            return raw.AsSpan().IndexOfAny(".eE") < 0 ? raw : JsonFloat(element.GetDouble());
        }

        // Integers (int, long, ...) print as they are.
        return value.ToJsonString();
    }

    private static string JsonFloat(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsInfinity(value) ? (value > 0 ? "Infinity" : "-Infinity") : Float(value);

    private static void String(StringBuilder text, string value)
    {
        ReferenceJsonEncoder.RequireWellFormed(value, () => $"JSON string \"{ReferenceJsonEncoder.Printable(value)}\"");
        text.Append('"').Append(ReferenceJsonEncoder.PythonAscii.Encode(value)).Append('"');
    }
}
