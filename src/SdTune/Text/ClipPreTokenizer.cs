using System.Globalization;
using System.Text;

namespace SdTune.Text;

/// <summary>
/// Splits cleaned, lower-cased text into the pieces CLIP runs BPE on, as the reference's case-insensitive
/// pattern <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
/// finds them, left to right, first alternative first: a special-token literal, an English contraction suffix,
/// a run of letters, a single digit/number character, or a run of anything else that is not whitespace.
/// Whitespace (Unicode White_Space, the pattern's <c>\s</c>) separates pieces and is dropped.
/// </summary>
/// <remarks>
/// Written by hand rather than with <see cref="System.Text.RegularExpressions.Regex"/> because .NET regexes see
/// UTF-16 units: a letter or digit outside the BMP (a surrogate pair) would not match <c>\p{L}</c> / <c>\p{N}</c>.
/// The case-insensitive literals use Unicode simple case folding, under which 'ſ' (U+017F) equals 's'.
/// </remarks>
internal static class ClipPreTokenizer
{
    /// <summary>The start-of-text literal the pattern recognises.</summary>
    public const string StartOfText = "<|startoftext|>";

    /// <summary>The end-of-text literal the pattern recognises.</summary>
    public const string EndOfText = "<|endoftext|>";

    private static readonly string[] Literals = [StartOfText, EndOfText, "'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    /// <summary>Appends the pieces of <paramref name="text"/> to <paramref name="pieces"/>.</summary>
    public static void Split(string text, List<string> pieces)
    {
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                i++;
                continue;
            }

            var end = MatchLiteral(text, i);
            if (end < 0)
            {
                var kind = Classify(text, i, out var length);
                end = i + length;
                if (kind != CharKind.Number)
                {
                    // Letters and "other" characters form runs; a number character stands alone.
                    while (end < text.Length && Classify(text, end, out length) == kind)
                    {
                        end += length;
                    }
                }
            }

            pieces.Add(text[i..end]);
            i = end;
        }
    }

    private enum CharKind
    {
        Letter,
        Number,
        Other,
        Whitespace,
    }

    private static CharKind Classify(string text, int index, out int length)
    {
        if (char.IsWhiteSpace(text[index]))
        {
            length = 1;
            return CharKind.Whitespace;
        }

        // A lone surrogate decodes as U+FFFD (a symbol), consuming one unit.
        _ = Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out length);
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharKind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharKind.Number,
            _ => CharKind.Other,
        };
    }

    /// <summary>The end of the first literal alternative matching at <paramref name="start"/>, or -1.</summary>
    private static int MatchLiteral(string text, int start)
    {
        var c = text[start];
        if (c is not ('<' or '\''))
        {
            return -1;
        }

        foreach (var literal in Literals)
        {
            if (literal[0] == c && MatchesFolded(text, start, literal))
            {
                return start + literal.Length;
            }
        }

        return -1;
    }

    private static bool MatchesFolded(string text, int start, string literal)
    {
        if (start + literal.Length > text.Length)
        {
            return false;
        }

        for (var k = 0; k < literal.Length; k++)
        {
            var c = text[start + k];
            if (c != literal[k] && !(c == '\u017F' && literal[k] == 's') && char.ToLowerInvariant(c) != literal[k])
            {
                return false;
            }
        }

        return true;
    }
}
