using System.Globalization;
using System.Net;
using System.Text;

namespace SdTune.Text;

/// <summary>
/// Replaces HTML character references the way Python's <c>html.unescape</c> does (the HTML5 parsing rules):
/// decimal and hexadecimal references with or without the trailing ';' (with the HTML5 replacements for
/// 0x00, 0x0D, the Windows-1252 range 0x80-0x9F, surrogates and out-of-range values, and removal of
/// non-characters), named references, and the legacy names that are recognised without ';' (also as a
/// prefix: "&amp;ampfoo" reads "&amp;" + "foo").
/// </summary>
/// <remarks>
/// Named references are resolved against the HTML 4 entity set (plus <c>apos</c> and the upper-case legacy
/// aliases); the HTML5-only names (such as <c>&amp;lpar;</c>) are left as they are, where Python would replace them.
/// </remarks>
internal static class HtmlUnescaper
{
    private const int MaxNameLength = 32;

    // HTML5 "numeric character reference end state" replacements; the other C1 bytes map to themselves.
    private static readonly Dictionary<int, string> NumericReplacements = new()
    {
        [0x00] = "\uFFFD", [0x0D] = "\r", [0x80] = "\u20AC", [0x81] = "\u0081", [0x82] = "\u201A", [0x83] = "\u0192",
        [0x84] = "\u201E", [0x85] = "\u2026", [0x86] = "\u2020", [0x87] = "\u2021", [0x88] = "\u02C6", [0x89] = "\u2030",
        [0x8A] = "\u0160", [0x8B] = "\u2039", [0x8C] = "\u0152", [0x8D] = "\u008D", [0x8E] = "\u017D", [0x8F] = "\u008F",
        [0x90] = "\u0090", [0x91] = "\u2018", [0x92] = "\u2019", [0x93] = "\u201C", [0x94] = "\u201D", [0x95] = "\u2022",
        [0x96] = "\u2013", [0x97] = "\u2014", [0x98] = "\u02DC", [0x99] = "\u2122", [0x9A] = "\u0161", [0x9B] = "\u203A",
        [0x9C] = "\u0153", [0x9D] = "\u009D", [0x9E] = "\u017E", [0x9F] = "\u0178",
    };

    // Upper-case legacy aliases that HTML5 knows but the HTML 4 entity set does not.
    private static readonly Dictionary<string, string> UpperCaseAliases = new(StringComparer.Ordinal)
    {
        ["AMP"] = "&", ["COPY"] = "\u00A9", ["GT"] = ">", ["LT"] = "<", ["QUOT"] = "\"", ["REG"] = "\u00AE",
    };

    /// <summary>Returns <paramref name="text"/> with every character reference replaced.</summary>
    public static string Unescape(string text)
    {
        var amp = text.IndexOf('&', StringComparison.Ordinal);
        if (amp < 0)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length);
        sb.Append(text, 0, amp);
        var i = amp;
        while (i < text.Length)
        {
            if (text[i] != '&')
            {
                sb.Append(text[i++]);
                continue;
            }

            var consumed = i + 1 < text.Length && text[i + 1] == '#'
                ? TryNumeric(text, i, sb)
                : TryNamed(text, i, sb);
            if (consumed == 0)
            {
                sb.Append('&');
                i++;
            }
            else
            {
                i += consumed;
            }
        }

        return sb.ToString();
    }

    /// <summary>Decodes "&amp;#123;" or "&amp;#x7B;" at <paramref name="start"/>; returns the characters consumed, 0 if none.</summary>
    private static int TryNumeric(string text, int start, StringBuilder sb)
    {
        var p = start + 2;
        var hex = p < text.Length && (text[p] == 'x' || text[p] == 'X');
        if (hex)
        {
            p++;
        }

        var digitsStart = p;
        while (p < text.Length && (hex ? char.IsAsciiHexDigit(text[p]) : char.IsAsciiDigit(text[p])))
        {
            p++;
        }

        if (p == digitsStart)
        {
            // "&#" or "&#x" without digits: Python then tries a named reference, whose name cannot start with '#'.
            return 0;
        }

        var digits = text.AsSpan(digitsStart, p - digitsStart).TrimStart('0');
        if (p < text.Length && text[p] == ';')
        {
            p++;
        }

        // More than 8 significant digits is always beyond U+10FFFF.
        long number = digits.Length > 8
            ? long.MaxValue
            : digits.IsEmpty ? 0 : long.Parse(digits, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture);
        if (NumericReplacements.TryGetValue((int)Math.Min(number, int.MaxValue), out var replacement))
        {
            sb.Append(replacement);
        }
        else if (number is >= 0xD800 and <= 0xDFFF || number > 0x10FFFF)
        {
            sb.Append('\uFFFD');
        }
        else if (!IsRemovedCodePoint((int)number))
        {
            sb.Append(char.ConvertFromUtf32((int)number));
        }

        return p - start;
    }

    // Control characters and non-characters: Python drops them.
    private static bool IsRemovedCodePoint(int c) =>
        c is (>= 0x01 and <= 0x08) or 0x0B or (>= 0x0E and <= 0x1F) or (>= 0x7F and <= 0x9F) or (>= 0xFDD0 and <= 0xFDEF)
        || (c & 0xFFFE) == 0xFFFE;

    /// <summary>Decodes "&amp;name;" (or a legacy name without ';') at <paramref name="start"/>; returns the characters consumed, 0 if none.</summary>
    private static int TryNamed(string text, int start, StringBuilder sb)
    {
        var p = start + 1;
        while (p < text.Length && p - start - 1 < MaxNameLength && IsNameChar(text[p]))
        {
            p++;
        }

        var nameLength = p - start - 1;
        if (nameLength == 0)
        {
            return 0;
        }

        var name = text.Substring(start + 1, nameLength);
        var hasSemicolon = p < text.Length && text[p] == ';';
        if (hasSemicolon && TryResolve(name, out var value))
        {
            sb.Append(value);
            return nameLength + 2;
        }

        // Without ';' (or an unknown full name) only the legacy names count, as the longest prefix of at least 2 characters.
        for (var length = nameLength; length >= 2; length--)
        {
            var prefix = name[..length];
            if (IsLegacyName(prefix) && TryResolve(prefix, out value))
            {
                sb.Append(value);
                sb.Append(name, length, nameLength - length);
                if (hasSemicolon)
                {
                    sb.Append(';');
                }

                return nameLength + 1 + (hasSemicolon ? 1 : 0);
            }
        }

        return 0;
    }

    private static bool IsNameChar(char c) => c is not ('\t' or '\n' or '\f' or ' ' or '<' or '&' or '#' or ';');

    private static bool TryResolve(string name, out string value)
    {
        if (UpperCaseAliases.TryGetValue(name, out value!))
        {
            return true;
        }

        var reference = "&" + name + ";";
        value = WebUtility.HtmlDecode(reference);
        return !string.Equals(value, reference, StringComparison.Ordinal);
    }

    // HTML5's legacy references (recognised without ';'): the Latin-1 entities, amp/lt/gt/quot and their upper-case aliases.
    private static bool IsLegacyName(string name) =>
        UpperCaseAliases.ContainsKey(name)
        || name is "amp" or "lt" or "gt" or "quot"
        || (TryResolve(name, out var value) && value.Length == 1 && value[0] is >= '\u00A0' and <= '\u00FF');
}
