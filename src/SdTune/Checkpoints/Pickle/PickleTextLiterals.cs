using System.Globalization;
using System.Text;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// The two escaped text arguments of protocol 0: <c>STRING</c> (a quoted Python bytes literal with backslash
/// escapes) and <c>UNICODE</c> (raw-unicode-escape: Latin-1 bytes with <c>\uXXXX</c> / <c>\UXXXXXXXX</c> escapes).
/// Decoded from the documented formats; a surrogate escape (which cannot be valid Unicode) is refused.
/// </summary>
internal static class PickleTextLiterals
{
    /// <summary>The bytes of a STRING argument (the line without its newline).</summary>
    public static byte[] DecodeQuoted(byte[] line, Func<string, Exception> error)
    {
        if (line.Length < 2 || line[0] != line[^1] || line[0] is not ((byte)'\'' or (byte)'"'))
        {
            throw error("the STRING opcode argument must be quoted");
        }

        var text = line.AsSpan(1, line.Length - 2);
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != (byte)'\\')
            {
                bytes.Add(text[i]);
                continue;
            }

            if (i + 1 == text.Length)
            {
                throw error("a STRING argument ends with a lone backslash");
            }

            var c = (char)text[++i];
            switch (c)
            {
                case '\n':
                    break; // a line continuation
                case '\\' or '\'' or '"':
                    bytes.Add((byte)c);
                    break;
                case 'a': bytes.Add(7); break;
                case 'b': bytes.Add(8); break;
                case 'f': bytes.Add(12); break;
                case 'n': bytes.Add(10); break;
                case 'r': bytes.Add(13); break;
                case 't': bytes.Add(9); break;
                case 'v': bytes.Add(11); break;
                case >= '0' and <= '7':
                    var octal = c - '0';
                    for (var digits = 1; digits < 3 && i + 1 < text.Length && text[i + 1] is >= (byte)'0' and <= (byte)'7'; digits++)
                    {
                        octal = (octal * 8) + (text[++i] - '0');
                    }

                    bytes.Add((byte)octal); // Python keeps the low 8 bits of \400-\777 as well
                    break;
                case 'x':
                    bytes.Add(i + 2 < text.Length && byte.TryParse(Encoding.ASCII.GetString(text.Slice(i + 1, 2)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex)
                        ? hex
                        : throw error("invalid \\x escape in a STRING argument"));
                    i += 2;
                    break;
                default:
                    bytes.Add((byte)'\\'); // unknown escapes stay as written
                    bytes.Add((byte)c);
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>The text of a UNICODE argument (the line without its newline).</summary>
    public static string DecodeRawUnicodeEscape(byte[] line, Func<string, Exception> error)
    {
        var text = new StringBuilder(line.Length);
        var backslashes = 0;
        for (var i = 0; i < line.Length; i++)
        {
            var b = line[i];
            // Only a backslash preceded by an even number of backslashes starts an escape.
            if (b == (byte)'\\' && backslashes % 2 == 0 && i + 1 < line.Length && line[i + 1] is (byte)'u' or (byte)'U')
            {
                var digits = line[i + 1] == (byte)'u' ? 4 : 8;
                if (i + 2 + digits > line.Length
                    || !int.TryParse(Encoding.ASCII.GetString(line, i + 2, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var codePoint)
                    || codePoint is < 0 or > 0x10FFFF)
                {
                    throw error("a UNICODE argument holds a malformed \\u or \\U escape");
                }

                if (codePoint is >= 0xD800 and <= 0xDFFF)
                {
                    throw error($"a UNICODE argument holds the escape \\u{codePoint:x4}, a UTF-16 surrogate, which is not valid Unicode");
                }

                text.Append(char.ConvertFromUtf32(codePoint));
                i += 1 + digits;
                backslashes = 0;
                continue;
            }

            backslashes = b == (byte)'\\' ? backslashes + 1 : 0;
            text.Append((char)b); // Latin-1
        }

        return text.ToString();
    }
}
