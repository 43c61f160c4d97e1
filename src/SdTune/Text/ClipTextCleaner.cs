using System.Text;

namespace SdTune.Text;

/// <summary>
/// The text cleanup CLIP applies before tokenising: HTML unescaping (twice, so "&amp;amp;" becomes "&amp;"),
/// then every whitespace run collapsed to one space and the ends stripped. Whitespace means Python's
/// <c>str.isspace</c>, which unlike <see cref="char.IsWhiteSpace(char)"/> includes U+001C..U+001F.
/// </summary>
/// <remarks>ftfy's <c>fix_text</c>, which the reference runs first, is not applied.</remarks>
internal static class ClipTextCleaner
{
    /// <summary>HTML-unescapes <paramref name="text"/> twice and collapses its whitespace.</summary>
    public static string Clean(string text) => CollapseWhitespace(HtmlUnescaper.Unescape(HtmlUnescaper.Unescape(text)));

    /// <summary>Python's whitespace test (<c>str.isspace</c>); every such character is in the BMP.</summary>
    public static bool IsWhitespace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';

    /// <summary>Replaces each whitespace run with one space and strips both ends.</summary>
    public static string CollapseWhitespace(string text)
    {
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (IsWhitespace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}
