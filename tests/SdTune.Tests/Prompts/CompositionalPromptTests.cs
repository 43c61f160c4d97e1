using SdTune.Prompts;

namespace SdTune.Tests.Prompts;

public class CompositionalPromptTests
{
    // Expected values produced by the web UI's get_multicond_prompt_list; written flat: text, weight, text, weight, …
    [Theory]
    [InlineData("a castle", "a castle", 1.0)]
    [InlineData("a AND b", "a", 1.0, " b", 1.0)]
    [InlineData("a AND b:0.5", "a", 1.0, " b", 0.5)]
    [InlineData("a:2 AND b : 0.25", "a", 2.0, " b", 0.25)]
    [InlineData("a ANDb", "a ANDb", 1.0)]
    [InlineData("AND", "", 1.0, "", 1.0)]
    [InlineData("a AND", "a", 1.0, "", 1.0)]
    [InlineData("ANDROID", "ANDROID", 1.0)]
    [InlineData("a and b", "a and b", 1.0)]
    [InlineData("a AND b:-1.5 ", "a", 1.0, " b", -1.5)]
    [InlineData("a AND (b:1.2)", "a", 1.0, " (b:1.2)", 1.0)]
    [InlineData("a :1.", "a", 1.0)]
    [InlineData("a: .5", "a", 0.5)]
    [InlineData("a AND b:1.2.3", "a", 1.0, " b:1.2.3", 1.0)]
    [InlineData("a:1:2", "a:1", 2.0)]
    [InlineData("x\tAND\ty :\t3 ", "x", 1.0, "\ty", 3.0)]
    [InlineData("a AND b AND c:0", "a", 1.0, " b", 1.0, " c", 0.0)]
    [InlineData("a:+2", "a", 2.0)]
    [InlineData("a :5 x", "a :5 x", 1.0)]
    public void Matches_the_reference_splitter(string prompt, params object[] expected)
    {
        var flat = CompositionalPrompt.Split(prompt).SelectMany(p => new object[] { p.Text, p.Weight }).ToArray();
        Assert.Equal(expected, flat);
    }
}
