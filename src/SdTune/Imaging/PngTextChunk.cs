namespace SdTune.Imaging;

/// <summary>The three PNG text chunk types.</summary>
public enum PngTextKind
{
    /// <summary><c>tEXt</c>: Latin-1, uncompressed.</summary>
    Text,

    /// <summary><c>zTXt</c>: Latin-1, zlib-compressed.</summary>
    CompressedText,

    /// <summary><c>iTXt</c>: UTF-8, optionally compressed, with language tag and translated keyword.</summary>
    InternationalText,
}

/// <summary>A text chunk read from a PNG file.</summary>
/// <param name="Kind">Which chunk type held it.</param>
/// <param name="Keyword">The keyword, e.g. <c>parameters</c> (A1111 infotext) or <c>prompt</c>/<c>workflow</c> (ComfyUI).</param>
/// <param name="Text">The decoded (and decompressed) text.</param>
/// <param name="LanguageTag">iTXt only: the language tag, often empty.</param>
/// <param name="TranslatedKeyword">iTXt only: the keyword translated into that language, often empty.</param>
public sealed record PngTextChunk(PngTextKind Kind, string Keyword, string Text, string LanguageTag = "", string TranslatedKeyword = "");
