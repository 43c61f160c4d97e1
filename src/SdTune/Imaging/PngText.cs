using System.IO.Compression;
using System.Text;

namespace SdTune.Imaging;

/// <summary>
/// Reads the text chunks (<c>tEXt</c>, <c>zTXt</c>, <c>iTXt</c>) of PNG files: A1111's <c>parameters</c>, ComfyUI's
/// <c>prompt</c>/<c>workflow</c>, embeddings stored in images, and so on.
/// </summary>
public static class PngText
{
    /// <summary>The keyword A1111, Forge and most tools use for the generation parameters.</summary>
    public const string ParametersKeyword = "parameters";

    /// <summary>All text chunks of <paramref name="path"/>, in file order.</summary>
    /// <exception cref="InvalidDataException">Not a PNG, truncated, a CRC mismatch, or a malformed text chunk; the message names the file.</exception>
    public static IReadOnlyList<PngTextChunk> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>All text chunks of a PNG held in memory; <paramref name="name"/> names it in error messages.</summary>
    public static IReadOnlyList<PngTextChunk> Read(ReadOnlySpan<byte> png, string name)
    {
        var result = new List<PngTextChunk>();
        foreach (var chunk in PngChunks.Parse(png, name))
        {
            var data = png.Slice(chunk.Offset, chunk.Length);
            switch (chunk.Type)
            {
                case "tEXt":
                    {
                        var keyword = SplitKeyword(data, name, chunk.Type, out var restStart);
                        result.Add(new PngTextChunk(PngTextKind.Text, keyword, Encoding.Latin1.GetString(data[restStart..])));
                        break;
                    }

                case "zTXt":
                    {
                        var keyword = SplitKeyword(data, name, chunk.Type, out var restStart);
                        var rest = data[restStart..];
                        if (rest.Length < 1 || rest[0] != 0)
                        {
                            throw Malformed(name, chunk.Type, keyword, "unknown compression method");
                        }

                        result.Add(new PngTextChunk(PngTextKind.CompressedText, keyword, Encoding.Latin1.GetString(Inflate(rest[1..], name, keyword))));
                        break;
                    }

                case "iTXt":
                    result.Add(ReadInternational(data, name));
                    break;
            }
        }

        return result;
    }

    /// <summary>The text of the first chunk with <paramref name="keyword"/>, or null if there is none.</summary>
    public static string? Find(IReadOnlyList<PngTextChunk> chunks, string keyword)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        return chunks.FirstOrDefault(c => c.Keyword == keyword)?.Text;
    }

    private static PngTextChunk ReadInternational(ReadOnlySpan<byte> data, string name)
    {
        var keyword = SplitKeyword(data, name, "iTXt", out var restStart);
        var rest = data[restStart..];
        if (rest.Length < 2)
        {
            throw Malformed(name, "iTXt", keyword, "missing compression flag and method");
        }

        var compressed = rest[0] != 0;
        if (compressed && rest[1] != 0)
        {
            throw Malformed(name, "iTXt", keyword, "unknown compression method");
        }

        rest = rest[2..];
        var languageEnd = rest.IndexOf((byte)0);
        if (languageEnd < 0)
        {
            throw Malformed(name, "iTXt", keyword, "unterminated language tag");
        }

        var language = Encoding.ASCII.GetString(rest[..languageEnd]);
        rest = rest[(languageEnd + 1)..];
        var translatedEnd = rest.IndexOf((byte)0);
        if (translatedEnd < 0)
        {
            throw Malformed(name, "iTXt", keyword, "unterminated translated keyword");
        }

        var translated = Encoding.UTF8.GetString(rest[..translatedEnd]);
        var text = rest[(translatedEnd + 1)..];
        var bytes = compressed ? Inflate(text, name, keyword) : text.ToArray();
        return new PngTextChunk(PngTextKind.InternationalText, keyword, Encoding.UTF8.GetString(bytes), language, translated);
    }

    private static string SplitKeyword(ReadOnlySpan<byte> data, string name, string type, out int restStart)
    {
        var end = data.IndexOf((byte)0);
        if (end < 1 || end > 79)
        {
            throw new InvalidDataException($"'{name}' has a malformed {type} chunk: the keyword must be 1-79 bytes followed by a zero byte.");
        }

        restStart = end + 1;
        return Encoding.Latin1.GetString(data[..end]);
    }

    private static byte[] Inflate(ReadOnlySpan<byte> compressed, string name, string keyword)
    {
        try
        {
            using var input = new MemoryStream(compressed.ToArray());
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            zlib.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{name}': the compressed text of chunk '{keyword}' is corrupt: {e.Message}", e);
        }
    }

    private static InvalidDataException Malformed(string name, string type, string keyword, string problem) =>
        new($"'{name}' has a malformed {type} chunk '{keyword}': {problem}.");
}
