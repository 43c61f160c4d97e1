using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SdTune.Imaging;

/// <summary>
/// The lexical rules of A1111's infotext: the settings-line pattern, value quoting (Python's
/// <c>json.dumps(ensure_ascii=False)</c>), unquoting (<c>json.loads</c>, falling back to the raw text), Python's
/// number formatting and <c>str.strip</c>.
/// </summary>
internal static partial class InfotextSyntax
{
    /// <summary>One <c>key: value</c> item of the settings line; a value is a JSON string or runs to the next comma.</summary>
    [GeneratedRegex("""\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""", RegexOptions.CultureInvariant)]
    public static partial Regex Parameter();

    /// <summary>A setting key that <see cref="Parameter"/> reads back whole.</summary>
    [GeneratedRegex("""^\w[\w \-/]+$""", RegexOptions.CultureInvariant)]
    public static partial Regex Key();

    /// <summary>A value A1111 splits into <c>key-1</c> and <c>key-2</c>, like <c>Size: 512x768</c>.</summary>
    [GeneratedRegex("^([0-9]+)x([0-9]+)$", RegexOptions.CultureInvariant)]
    public static partial Regex ImageSize();

    /// <summary>A value as A1111 writes it: JSON-quoted if it holds a comma, colon or newline, raw otherwise.</summary>
    public static string Quote(string value)
    {
        if (value.IndexOfAny([',', '\n', ':']) < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case < ' ': builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: builder.Append(c); break;
            }
        }

        return builder.Append('"').ToString();
    }

    /// <summary>Decodes a JSON string literal; text that is not one comes back unchanged (A1111's <c>unquote</c>).</summary>
    public static string Unquote(string value)
    {
        if (value.Length < 2 || value[0] != '"' || value[^1] != '"')
        {
            return value;
        }

        try
        {
            return JsonSerializer.Deserialize<string>(value) ?? value;
        }
        catch (JsonException)
        {
            return value;
        }
    }

    /// <summary>Numbers as A1111 shows them: whole values without a fraction (<c>7</c>), others as Python's repr (<c>7.5</c>, <c>1e-05</c>).</summary>
    public static string FormatNumber(double value)
    {
        if (double.IsInteger(value) && Math.Abs(value) < 1e16)
        {
            return ((long)value).ToString(CultureInfo.InvariantCulture);
        }

        return value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
    }

    /// <summary>Python's <c>str.strip()</c>: also removes the separators U+001C..U+001F that .NET does not count as white space.</summary>
    public static string Strip(string text)
    {
        var start = 0;
        var end = text.Length;
        while (start < end && IsSpace(text[start]))
        {
            start++;
        }

        while (end > start && IsSpace(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }

    private static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f';
}
