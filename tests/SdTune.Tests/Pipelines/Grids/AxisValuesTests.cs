using SdTune.Pipelines.Grids;

namespace SdTune.Tests.Pipelines.Grids;

public class AxisValuesTests
{
    [Theory]
    [InlineData("1-5", new long[] { 1, 2, 3, 4, 5 })]
    [InlineData("5-3", new long[] { 5, 4, 3 })]
    [InlineData("1-5 (+2)", new long[] { 1, 3, 5 })]
    [InlineData("10-5 (-3)", new long[] { 10, 7 })]
    [InlineData("1-10 [5]", new long[] { 1, 3, 5, 7, 10 })]
    [InlineData("10-20 [3]", new long[] { 10, 15, 20 })]
    [InlineData("1, 3, 7", new long[] { 1, 3, 7 })]
    [InlineData("-1, 2-4, 9", new long[] { -1, 2, 3, 4, 9 })]
    [InlineData("-3--1", new long[] { -3, -2, -1 })]
    [InlineData("7 ,, 8,", new long[] { 7, 8 })]
    public void Integer_lists_and_ranges_expand_as_a1111_documents(string text, long[] expected)
    {
        Assert.Equal(expected, AxisValues.ParseIntegers(text));
    }

    [Theory]
    [InlineData("1-3 (+0.5)", new[] { 1, 1.5, 2, 2.5, 3 })]
    [InlineData("0.0-1.0 [6]", new[] { 0, 0.2, 0.4, 0.6, 0.8, 1 })]
    [InlineData("1-1.3 (+0.1)", new[] { 1, 1.1, 1.2, 1.3 })]
    [InlineData("7, 4.5, -2", new[] { 7, 4.5, -2 })]
    [InlineData("3-5", new[] { 3.0, 4, 5 })]
    [InlineData("2-2 [1]", new[] { 2.0 })]
    public void Real_lists_and_ranges_expand_without_rounding_noise(string text, double[] expected)
    {
        Assert.Equal(expected, AxisValues.ParseNumbers(text));
    }

    [Theory]
    [InlineData("1-5 (+0)", "must not be 0")]
    [InlineData("5-1 (+1)", "no values")]
    [InlineData("1-5 [0]", "count")]
    [InlineData("ten", "'ten' is not a whole number or a range")]
    [InlineData("1.5", "'1.5' is not a whole number")]
    [InlineData("1-4 (+0.5)", "whole numbers")]
    [InlineData("1-100000", "more than 1000 values")]
    public void Bad_integer_values_are_errors_naming_the_value(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => AxisValues.ParseIntegers(text));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_lists_follow_a_csv_line()
    {
        Assert.Equal(["an apple", "a watermelon", "a gun"], AxisValues.SplitList("an apple, a watermelon, a gun"));
        Assert.Equal(["darkness, light", "green, heat"], AxisValues.SplitList("\"darkness, light\",\"green, heat\""));
        Assert.Equal(["say \"hi\"", "", "x"], AxisValues.SplitList("\"say \"\"hi\"\"\", \"\", x"));
        Assert.Equal(["DPM++ 2M Karras", "Euler a"], AxisValues.SplitList(" DPM++ 2M Karras ,Euler a"));
        Assert.Throws<FormatException>(() => AxisValues.SplitList("\"open, x"));
    }
}
