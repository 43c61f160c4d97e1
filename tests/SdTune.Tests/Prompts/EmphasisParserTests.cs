using SdTune.Prompts;

namespace SdTune.Tests.Prompts;

public class EmphasisParserTests
{
    /// <summary>Expected runs are written flat: text, weight, text, weight, …; weights compare exactly.</summary>
    private static void AssertRuns(string prompt, object[] expected)
    {
        var flat = EmphasisParser.Parse(prompt).SelectMany(r => new object[] { r.Text, r.Weight }).ToArray();
        Assert.Equal(expected.Select(x => x is int i ? (double)i : x).ToArray(), flat);
    }

    // The doctest of the web UI's parse_prompt_attention.
    [Theory]
    [InlineData("normal text", "normal text", 1.0)]
    [InlineData("an (important) word", "an ", 1.0, "important", 1.1, " word", 1.0)]
    [InlineData("(unbalanced", "unbalanced", 1.1)]
    [InlineData("\\(literal\\]", "(literal]", 1.0)]
    [InlineData("(unnecessary)(parens)", "unnecessaryparens", 1.1)]
    [InlineData(
        "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
        "a ", 1.0, "house", 1.5730000000000004, " ", 1.1, "on", 1.0, " a ", 1.1, "hill", 0.55, ", sun, ", 1.1,
        "sky", 1.4641000000000006, ".", 1.1)]
    public void Doctest_cases(string prompt, params object[] expected) => AssertRuns(prompt, expected);

    // Further cases, expected values produced by the web UI's parser.
    [Theory]
    [InlineData("", "", 1.0)]
    [InlineData("((a))", "a", 1.2100000000000002)]
    [InlineData("[a]", "a", 0.9090909090909091)]
    [InlineData("[[a]]", "a", 0.8264462809917354)]
    [InlineData("(((a)))", "a", 1.3310000000000004)]
    [InlineData("[[[a]]]", "a", 0.7513148009015777)]
    [InlineData("(a:1.5)", "a", 1.5)]
    [InlineData("(a:+2)", "a", 2.0)]
    [InlineData("(a: 0.5 )", "a", 0.5)]
    [InlineData("(a:-1)", "a", -1.0)]
    [InlineData("((a:2):3)", "a", 6.0)]
    [InlineData("([a])", "a", 1.0)]
    [InlineData("[(a:1.21)]", "a", 1.0999999999999999)]
    [InlineData("a)b]c", "a)b]c", 1.0)]
    [InlineData("a:1.2)", "a:1.2)", 1.0)]
    [InlineData("a:b", "a:b", 1.0)]
    [InlineData("(a:b)", "a:b", 1.1)]
    [InlineData("(a:1.2:3)", "a:1.2", 3.0)]
    [InlineData("[a:1.5]", "a:1.5", 0.9090909090909091)]
    [InlineData("\\\\", "\\", 1.0)]
    [InlineData("a\\b", "ab", 1.0)]
    [InlineData("(a)\\(b)", "a", 1.1, "(b)", 1.0)]
    [InlineData("\\(a\\)", "(a)", 1.0)]
    [InlineData("a ((b)", "a ", 1.0, "b", 1.2100000000000002)]
    [InlineData("(a)(b:1.1)", "ab", 1.1)]
    [InlineData("(a:1.1)(b)", "ab", 1.1)]
    public void Matches_the_reference_parser(string prompt, params object[] expected) => AssertRuns(prompt, expected);

    [Theory]
    [InlineData("a BREAK b", "a", 1.0, "BREAK", -1, "b", 1.0)]
    [InlineData("BREAK", "", 1.0, "BREAK", -1, "", 1.0)]
    [InlineData("aBREAK b", "aBREAK b", 1.0)]
    [InlineData("a BREAKb", "a BREAKb", 1.0)]
    [InlineData("break", "break", 1.0)]
    [InlineData("a\nBREAK\tb", "a", 1.0, "BREAK", -1, "b", 1.0)]
    [InlineData("a, BREAK,b", "a,", 1.0, "BREAK", -1, ",b", 1.0)]
    [InlineData("BREAK BREAK", "", 1.0, "BREAK", -1, "", 1.0, "BREAK", -1, "", 1.0)]
    [InlineData("x (y) BREAK [z]", "x ", 1.0, "y", 1.1, "", 1.0, "BREAK", -1, "", 1.0, "z", 0.9090909090909091)]
    [InlineData("(a BREAK b)", "a", 1.1, "BREAK", -1.1, "b", 1.1)]
    public void Break_matches_the_reference_parser(string prompt, params object[] expected) => AssertRuns(prompt, expected);

    [Fact]
    public void Break_marker_is_recognised_only_outside_brackets()
    {
        var outside = EmphasisParser.Parse("a BREAK b");
        Assert.True(outside[1].IsBreak);
        Assert.Equal(WeightedText.Break, outside[1]);

        var inside = EmphasisParser.Parse("(a BREAK b)");
        Assert.Equal("BREAK", inside[1].Text);
        Assert.False(inside[1].IsBreak);
    }

    [Theory]
    [InlineData("(a:1.2.3)", "1.2.3")]
    [InlineData("(a:.)", ".")]
    [InlineData("(a:-.)", "-.")]
    public void A_malformed_explicit_weight_is_reported(string prompt, string weight)
    {
        var error = Assert.Throws<PromptSyntaxException>(() => EmphasisParser.Parse(prompt));
        Assert.Contains($"'{weight}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(prompt, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_weight_without_an_open_bracket_is_plain_text()
    {
        AssertRuns("a:1.2.3)", ["a:1.2.3)", 1.0]);
    }
}
