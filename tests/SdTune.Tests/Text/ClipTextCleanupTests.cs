using SdTune.Text;

namespace SdTune.Tests.Text;

/// <summary>
/// The text cleanup steps against Python's own behaviour: the expected strings are what CPython 3.11's
/// <c>html.unescape</c> and <c>str.lower</c> return for these inputs (the functions the CLIP reference calls).
/// </summary>
public class ClipTextCleanupTests
{
    [Theory]
    [InlineData("&ampx", "&x")]
    [InlineData("&notit;", "\u00ACit;")]
    [InlineData("&notin;", "\u2209")]
    [InlineData("&#128;", "\u20AC")]
    [InlineData("&#0;", "\uFFFD")]
    [InlineData("&#xD800;", "\uFFFD")]
    [InlineData("&#1;", "")]
    [InlineData("&#x1F600;", "\U0001F600")]
    [InlineData("&#", "&#")]
    [InlineData("&#x;", "&#x;")]
    [InlineData("&COPY", "\u00A9")]
    [InlineData("&copy2", "\u00A92")]
    [InlineData("&frac12x", "\u00BDx")]
    [InlineData("&#65", "A")]
    [InlineData("&#X41;", "A")]
    [InlineData("&#99999999999;", "\uFFFD")]
    [InlineData("&#x81;", "\u0081")]
    [InlineData("&hellip;", "\u2026")]
    [InlineData("&foo;", "&foo;")]
    [InlineData("&lt", "<")]
    [InlineData("AT&amp;T", "AT&T")]
    [InlineData("&#13;", "\r")]
    public void Html_unescape_matches_python(string input, string expected)
    {
        Assert.Equal(expected, HtmlUnescaper.Unescape(input));
    }

    [Theory]
    [InlineData("A Photo Of A CAT", "a photo of a cat")]
    [InlineData("İstanbul", "i\u0307stanbul")]
    [InlineData("ΟΔΥΣΣΕΥΣ", "οδυσσευς")]
    [InlineData("ΣΑ Σ ΑΣ. ΑΣ'Α", "σα σ ας. ασ'α")]
    [InlineData("Ⓐ\U0001F130Σ", "ⓐ\U0001F130ς")]
    public void Lower_case_matches_python(string input, string expected)
    {
        Assert.Equal(expected, PythonLowerCase.Lower(input));
    }

    [Fact]
    public void Whitespace_collapse_uses_python_whitespace()
    {
        Assert.Equal("a b c", ClipTextCleaner.Clean(" \u001Ca\t\n b\u3000\u2029c\u00A0 "));
        Assert.Equal("a\u200Bb", ClipTextCleaner.Clean("a\u200Bb"));
    }
}
