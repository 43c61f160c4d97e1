using System.Globalization;

namespace SdTune.Prompts;

/// <summary>
/// Character classes as the web UI's regular expressions see them (Python's <c>\s</c>, <c>\w</c> and <c>\d</c> on text),
/// so that keywords and weights are recognised at exactly the same places.
/// </summary>
internal static class PythonText
{
    /// <summary>Python's <c>\s</c>: Unicode whitespace, including the information separators U+001C–U+001F.</summary>
    public static bool IsWhitespace(char c) => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f';

    /// <summary>Python's <c>\w</c>: letters, digits, other numeric characters and the underscore.</summary>
    public static bool IsWordChar(char c) =>
        char.IsLetterOrDigit(c)
        || c == '_'
        || char.GetUnicodeCategory(c) is UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;

    /// <summary>Python's <c>\d</c>: any Unicode decimal digit.</summary>
    public static bool IsDigit(char c) => char.IsDigit(c);

    /// <summary>Parses a number the way Python's <c>float()</c> reads the digits it is given (any Unicode decimal digit counts).</summary>
    public static bool TryParseFloat(string text, out double value)
    {
        var ascii = new char[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            ascii[i] = char.IsDigit(c) ? (char)('0' + CharUnicodeInfo.GetDecimalDigitValue(c)) : c;
        }

        return double.TryParse(ascii, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }
}
