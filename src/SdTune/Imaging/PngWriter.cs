using System.Text;
using SdTune.IO;
using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>
/// Saves bitmaps as PNG with text chunks, e.g. the A1111 <c>parameters</c> infotext that A1111's "PNG Info",
/// ComfyUI, Civitai and image viewers read. Skia encodes the pixels; the text chunks are inserted before the first
/// <c>IDAT</c>, where PIL (and so A1111) writes them, so readers that stop at the image data still find them. Text
/// that Latin-1 can hold goes into <c>tEXt</c>; other text into an uncompressed UTF-8 <c>iTXt</c> (PIL's rule).
/// Identical pixels and text give byte-identical files. The file is written atomically.
/// </summary>
public static class PngWriter
{
    /// <summary>Writes <paramref name="bitmap"/> to <paramref name="path"/> with the given text chunks, in dictionary order.</summary>
    /// <exception cref="ArgumentException">A keyword is not a valid PNG keyword, or a text contains a zero character.</exception>
    public static void Save(string path, SKBitmap bitmap, IReadOnlyDictionary<string, string>? textChunks = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = Encode(bitmap, textChunks);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>Encodes <paramref name="bitmap"/> as PNG bytes with the given text chunks.</summary>
    public static byte[] Encode(SKBitmap bitmap, IReadOnlyDictionary<string, string>? textChunks = null)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        var chunks = (textChunks ?? new Dictionary<string, string>()).Select(p => EncodeTextChunk(p.Key, p.Value)).ToList();

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new ArgumentException($"Skia cannot encode a {bitmap.ColorType} {bitmap.Width}x{bitmap.Height} bitmap as PNG.", nameof(bitmap));
        var png = data.AsSpan();
        var parsed = PngChunks.Parse(png, "encoded PNG");
        var firstData = parsed.First(c => c.Type is "IDAT" or "IEND");
        var insertAt = firstData.Offset - 8;

        using var output = new MemoryStream(png.Length + chunks.Sum(c => c.Data.Length + 12));
        output.Write(png[..insertAt]);
        foreach (var (type, chunkData) in chunks)
        {
            PngChunks.Write(output, type, chunkData);
        }

        output.Write(png[insertAt..]);
        return output.ToArray();
    }

    private static (string Type, byte[] Data) EncodeTextChunk(string keyword, string text)
    {
        ArgumentNullException.ThrowIfNull(keyword);
        ArgumentNullException.ThrowIfNull(text);
        ValidateKeyword(keyword);
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The text of PNG chunk '{keyword}' contains a zero character, which PNG text cannot hold.", nameof(text));
        }

        var keywordBytes = Encoding.Latin1.GetBytes(keyword);
        if (text.All(c => c <= '\u00ff'))
        {
            return ("tEXt", [.. keywordBytes, 0, .. Encoding.Latin1.GetBytes(text)]);
        }

        // iTXt: keyword, 0, compression flag 0, method 0, empty language tag + 0, empty translated keyword + 0, UTF-8 text.
        return ("iTXt", [.. keywordBytes, 0, 0, 0, 0, 0, .. new UTF8Encoding(false).GetBytes(text)]);
    }

    private static void ValidateKeyword(string keyword)
    {
        var valid = keyword.Length is >= 1 and <= 79
            && keyword.All(c => c is (>= ' ' and <= '~') or (>= '\u00a1' and <= '\u00ff'))
            && !keyword.StartsWith(' ') && !keyword.EndsWith(' ') && !keyword.Contains("  ", StringComparison.Ordinal);
        if (!valid)
        {
            throw new ArgumentException(
                $"'{keyword}' is not a valid PNG text keyword (1-79 printable Latin-1 characters, no leading, trailing or double spaces).",
                nameof(keyword));
        }
    }
}
