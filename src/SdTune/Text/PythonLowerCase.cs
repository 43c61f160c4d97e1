using System.Globalization;
using System.Text;

namespace SdTune.Text;

/// <summary>
/// Lower-cases text as Python's <c>str.lower()</c> does, which the CLIP reference applies. It differs from
/// <see cref="string.ToLowerInvariant"/> in two places: 'İ' (U+0130) becomes "i" + U+0307 COMBINING DOT ABOVE
/// (the full mapping of Unicode's SpecialCasing), and a capital sigma at the end of a word becomes 'ς'
/// (the Final_Sigma context), elsewhere 'σ'.
/// </summary>
internal static class PythonLowerCase
{
    private const char CapitalSigma = '\u03A3';
    private const char DottedCapitalI = '\u0130';

    /// <summary>The lower-case form of <paramref name="text"/>.</summary>
    public static string Lower(string text)
    {
        if (!text.AsSpan().ContainsAnyExceptInRange((char)0, (char)0x7F))
        {
            return text.ToLowerInvariant();
        }

        var sb = new StringBuilder(text.Length + 4);
        var index = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case DottedCapitalI:
                    sb.Append("i\u0307");
                    break;
                case CapitalSigma:
                    sb.Append(IsFinalSigma(text, index) ? '\u03C2' : '\u03C3');
                    break;
                default:
                    var lower = Rune.ToLowerInvariant(rune);
                    sb.Append(lower.ToString());
                    break;
            }

            index += rune.Utf16SequenceLength;
        }

        return sb.ToString();
    }

    /// <summary>
    /// Unicode's Final_Sigma: a cased letter before (skipping case-ignorable characters), and no cased letter
    /// after (skipping case-ignorable characters).
    /// </summary>
    private static bool IsFinalSigma(string text, int sigmaIndex)
    {
        var before = NextNonIgnorable(text, sigmaIndex, backwards: true);
        if (before is not { } b || !IsCased(b))
        {
            return false;
        }

        var after = NextNonIgnorable(text, sigmaIndex + 1, backwards: false);
        return after is not { } a || !IsCased(a);
    }

    private static Rune? NextNonIgnorable(string text, int index, bool backwards)
    {
        while (backwards ? index > 0 : index < text.Length)
        {
            Rune rune;
            if (backwards)
            {
                _ = Rune.DecodeLastFromUtf16(text.AsSpan(0, index), out rune, out var length);
                index -= length;
            }
            else
            {
                _ = Rune.DecodeFromUtf16(text.AsSpan(index), out rune, out var length);
                index += length;
            }

            if (!IsCaseIgnorable(rune))
            {
                return rune;
            }
        }

        return null;
    }

    // Unicode "Cased": upper/lower/title-case letters and the characters that have a case mapping
    // (circled letters, Roman numerals), plus the characters of Other_Lowercase / Other_Uppercase that have
    // neither: the ordinals ª and º, and the squared / negative circled / negative squared Latin capitals.
    private static bool IsCased(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
        || Rune.ToLowerInvariant(rune) != rune
        || Rune.ToUpperInvariant(rune) != rune
        || rune.Value is 0x00AA or 0x00BA or (>= 0x1F130 and <= 0x1F149) or (>= 0x1F150 and <= 0x1F169) or (>= 0x1F170 and <= 0x1F189);

    // Unicode "Case_Ignorable": marks, format characters, modifier letters and symbols, and the
    // Word_Break MidLetter / MidNumLet / Single_Quote punctuation (apostrophes, full stops, colons, middle dots).
    private static bool IsCaseIgnorable(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        || rune.Value is 0x0027 or 0x002E or 0x003A or 0x00B7 or 0x0387 or 0x055F or 0x05F4 or 0x2018 or 0x2019 or 0x2024
            or 0x2027 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A;
}
