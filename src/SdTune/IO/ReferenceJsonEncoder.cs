using System.Text;
using System.Text.Encodings.Web;

namespace SdTune.IO;

/// <summary>
/// String escaping of the JSON writers whose bytes other tools hash or compare, for <see cref="System.Text.Json.Utf8JsonWriter"/>
/// and <see cref="PythonJson"/>. Both escape <c>"</c> and <c>\</c> with a backslash, write <c>\b \f \n \r \t</c> short and
/// other control characters as <c>\u00xx</c> (lower-case hex), and leave <c>/</c> alone:
/// <list type="bullet">
/// <item><see cref="SerdeJson"/>: Rust's serde_json (the safetensors header): everything else raw, DEL and non-ASCII
///       included;</item>
/// <item><see cref="PythonAscii"/>: Python's <c>json.dumps</c> with its default <c>ensure_ascii=True</c>: DEL and every
///       non-ASCII character as <c>\uxxxx</c> (lower-case, UTF-16 surrogate pairs beyond the BMP).</item>
/// </list>
/// Text with a lone surrogate has no UTF-8 form; <see cref="RequireWellFormed"/> refuses it before writing.
/// </summary>
internal sealed class ReferenceJsonEncoder : JavaScriptEncoder
{
    private const string Hex = "0123456789abcdef";
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly bool asciiOnly;

    private ReferenceJsonEncoder(bool asciiOnly) => this.asciiOnly = asciiOnly;

    /// <summary>serde_json's escaping (the Python <c>safetensors</c> package's header).</summary>
    public static ReferenceJsonEncoder SerdeJson { get; } = new(asciiOnly: false);

    /// <summary>Python <c>json.dumps</c>' default escaping (<c>ensure_ascii=True</c>).</summary>
    public static ReferenceJsonEncoder PythonAscii { get; } = new(asciiOnly: true);

    /// <inheritdoc />
    public override int MaxOutputCharactersPerInputCharacter => 12;

    /// <summary>Throws when <paramref name="text"/> holds a lone surrogate (which neither reference writer can store).</summary>
    /// <param name="text">The text to check.</param>
    /// <param name="what">What the text is, for the message (for example "metadata key 'x'").</param>
    /// <exception cref="ArgumentException">The text is not well-formed UTF-16.</exception>
    public static void RequireWellFormed(string text, Func<string> what)
    {
        try
        {
            StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"{what()} holds a lone surrogate (U+{(int)e.CharUnknown:X4}) and cannot be written as UTF-8.", e);
        }
    }

    /// <summary><paramref name="text"/> with every character outside printable ASCII written as a <c>\u</c> escape, for messages.</summary>
    public static string Printable(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:x4}");
        }

        return builder.ToString();
    }

    /// <inheritdoc />
    public override bool WillEncode(int unicodeScalar) =>
        unicodeScalar is < 0x20 or '"' or '\\' || (asciiOnly && unicodeScalar >= 0x7F);

    /// <inheritdoc />
    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (var i = 0; i < textLength; i++)
        {
            if (WillEncode(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <inheritdoc />
    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var escaped = Escape(unicodeScalar);
        numberOfCharactersWritten = 0;
        if (escaped.Length > bufferLength)
        {
            return false;
        }

        escaped.AsSpan().CopyTo(new Span<char>(buffer, bufferLength));
        numberOfCharactersWritten = escaped.Length;
        return true;
    }

    private string Escape(int scalar)
    {
        switch (scalar)
        {
            case '"': return "\\\"";
            case '\\': return "\\\\";
            case '\b': return "\\b";
            case '\f': return "\\f";
            case '\n': return "\\n";
            case '\r': return "\\r";
            case '\t': return "\\t";
        }

        if (!WillEncode(scalar))
        {
            return char.ConvertFromUtf32(scalar);
        }

        if (scalar <= 0xFFFF)
        {
            return Unit(scalar);
        }

        var pair = char.ConvertFromUtf32(scalar);
        return Unit(pair[0]) + Unit(pair[1]);
    }

    private static string Unit(int unit) =>
        string.Create(6, unit, static (span, u) =>
        {
            span[0] = '\\';
            span[1] = 'u';
            span[2] = Hex[(u >> 12) & 0xF];
            span[3] = Hex[(u >> 8) & 0xF];
            span[4] = Hex[(u >> 4) & 0xF];
            span[5] = Hex[u & 0xF];
        });
}
