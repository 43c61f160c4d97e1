using System.Text;
using System.Text.RegularExpressions;

namespace SdTune.Tests.Architecture;

/// <summary>
/// Reduces C# source text to what the compiler resolves as names: comments and string and character literals are
/// blanked out (so a namespace mentioned in a message or a remark is no import), while the <c>cref</c> targets of
/// documentation comments are kept (the compiler resolves them, so they are references like any other).
/// </summary>
internal static partial class CSharpCode
{
    /// <summary>The code of <paramref name="text"/> without comments and literals; <c>cref</c> targets stay, one per line.</summary>
    public static string NamesOnly(string text)
    {
        var code = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            i = ScanCode(text, i, code, stopAtBrace: false);
        }

        return code.ToString();
    }

    // Copies code from `start` until the end of the text (or, inside an interpolation hole, its closing brace),
    // skipping comments and literals. Returns the index after what was consumed.
    private static int ScanCode(string text, int start, StringBuilder code, bool stopAtBrace)
    {
        var depth = 0;
        var i = start;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '/' && At(text, i, "///"))
            {
                var end = LineEnd(text, i);
                foreach (Match cref in CrefPattern().Matches(text[i..end]))
                {
                    code.Append(' ').Append(cref.Groups[1].Value).Append(' ');
                }

                code.Append('\n');
                i = end;
            }
            else if (c == '/' && At(text, i, "//"))
            {
                i = LineEnd(text, i);
            }
            else if (c == '/' && At(text, i, "/*"))
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? text.Length : end + 2;
                code.Append(' ');
            }
            else if (c is '"' or '$' or '@' && StringStart(text, i) is { } literal)
            {
                code.Append('"');
                i = SkipString(text, literal, code);
                code.Append('"');
            }
            else if (c == '\'')
            {
                i = SkipCharLiteral(text, i);
                code.Append("' '");
            }
            else if (stopAtBrace && c == '{')
            {
                depth++;
                code.Append(c);
                i++;
            }
            else if (stopAtBrace && c == '}')
            {
                if (depth == 0)
                {
                    return i + 1;
                }

                depth--;
                code.Append(c);
                i++;
            }
            else
            {
                code.Append(c);
                i++;
            }
        }

        return i;
    }

    private readonly record struct StringLiteral(int QuotesAt, int Quotes, int Dollars, bool Verbatim);

    // Recognises the start of a string literal at `i`: "…", @"…", $"…", $@"…", @$"…", and raw """…""" with any $ prefix.
    private static StringLiteral? StringStart(string text, int i)
    {
        var j = i;
        var dollars = 0;
        var verbatim = false;
        while (j < text.Length && (text[j] == '$' || text[j] == '@'))
        {
            if (text[j] == '$')
            {
                dollars++;
            }
            else
            {
                verbatim = true;
            }

            j++;
        }

        if (j >= text.Length || text[j] != '"')
        {
            return null;
        }

        var quotes = 0;
        while (j + quotes < text.Length && text[j + quotes] == '"')
        {
            quotes++;
        }

        // "" is an empty string, not the start of a raw literal.
        return new StringLiteral(j, quotes >= 3 ? quotes : 1, dollars, verbatim);
    }

    private static int SkipString(string text, StringLiteral literal, StringBuilder code)
    {
        var i = literal.QuotesAt + literal.Quotes;
        var interpolated = literal.Dollars > 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (literal.Quotes >= 3)
            {
                if (At(text, i, new string('"', literal.Quotes)))
                {
                    return i + literal.Quotes;
                }
            }
            else if (c == '\\' && !literal.Verbatim)
            {
                i += 2;
                continue;
            }
            else if (c == '"')
            {
                if (literal.Verbatim && At(text, i, "\"\""))
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            if (interpolated && c == '{')
            {
                var braces = new string('{', Math.Max(literal.Quotes >= 3 ? literal.Dollars : 1, 1));
                if (literal.Quotes < 3 && At(text, i, "{{"))
                {
                    i += 2;
                    continue;
                }

                if (At(text, i, braces))
                {
                    // An interpolation hole is code (it may name types); its own literals are skipped recursively.
                    code.Append(' ');
                    i = ScanCode(text, i + braces.Length, code, stopAtBrace: true);
                    code.Append(' ');
                    continue;
                }
            }

            i++;
        }

        return i;
    }

    private static int SkipCharLiteral(string text, int i)
    {
        var j = i + 1;
        while (j < text.Length && text[j] != '\'' && text[j] != '\n')
        {
            j += text[j] == '\\' ? 2 : 1;
        }

        return Math.Min(j + 1, text.Length);
    }

    private static bool At(string text, int i, string token) => string.CompareOrdinal(text, i, token, 0, token.Length) == 0;

    private static int LineEnd(string text, int i)
    {
        var end = text.IndexOf('\n', i);
        return end < 0 ? text.Length : end;
    }

    [GeneratedRegex("cref=\"([^\"]*)\"")]
    private static partial Regex CrefPattern();
}
