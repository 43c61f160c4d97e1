using System.Text.Json.Nodes;
using SdTune.IO;

namespace SdTune.Tests.Adapters;

/// <summary>
/// sd-scripts writes its JSON-valued metadata with Python's <c>json.dumps</c> defaults and its numbers with <c>str</c>.
/// The expected texts are written by hand from Python's documented behaviour (separators <c>", "</c> and
/// <c>": "</c>; <c>ensure_ascii</c>: every character outside printable ASCII as a lower-case <c>\uxxxx</c>, surrogate
/// pairs beyond the BMP; <c>\" \\ \n \t</c>; <c>/</c> kept; floats as <c>repr</c>) and were checked against CPython 3.
/// </summary>
public class PythonJsonTests
{
    [Fact]
    public void Objects_lists_strings_and_numbers_are_written_as_json_dumps_writes_them()
    {
        var value = new JsonObject
        {
            ["is_dreambooth"] = true,
            ["name"] = "say \"hi\" \\ back\nslash\ttab\u0001/ é日本😀\u007f",
            ["resolution"] = new JsonArray(512, 768),
            ["nested"] = new JsonObject
            {
                ["empty_list"] = new JsonArray(),
                ["empty_dict"] = new JsonObject(),
                ["none"] = null,
                ["lists"] = new JsonArray(new JsonArray(1, 2), new JsonArray("a")),
            },
            ["lr"] = new JsonArray(1e-05, 0.0001, 1.0, 1e16, 0.1 + 0.2, 5e-05, 123456.789, -0.0, 1e15, 2.5e-300, double.MaxValue),
        };

        Assert.Equal(
            """{"is_dreambooth": true, "name": "say \"hi\" \\ back\nslash\ttab\u0001/ \u00e9\u65e5\u672c\ud83d\ude00\u007f","""
            + """ "resolution": [512, 768], "nested": {"empty_list": [], "empty_dict": {}, "none": null, "lists": [[1, 2], ["a"]]},"""
            + """ "lr": [1e-05, 0.0001, 1.0, 1e+16, 0.30000000000000004, 5e-05, 123456.789, -0.0, 1000000000000000.0, 2.5e-300, 1.7976931348623157e+308]}""",
            PythonJson.Serialize(value));
    }

    [Theory]
    [InlineData(1e-05, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.001, "0.001")]
    [InlineData(1.0, "1.0")]
    [InlineData(100.0, "100.0")]
    [InlineData(0.5, "0.5")]
    [InlineData(0.0, "0.0")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e22, "1e+22")]
    [InlineData(1.5e-7, "1.5e-07")]
    [InlineData(12345678901234567.0, "1.2345678901234568e+16")]
    [InlineData(2.5e-300, "2.5e-300")]
    [InlineData(double.NaN, "nan")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void Floats_are_written_as_python_str_writes_them(double value, string expected)
    {
        Assert.Equal(expected, PythonJson.Float(value));
    }

    [Fact]
    public void Json_writes_non_finite_floats_as_python_does_and_refuses_lone_surrogates()
    {
        Assert.Equal("[NaN, Infinity, -Infinity]", PythonJson.Serialize(new JsonArray(double.NaN, double.PositiveInfinity, double.NegativeInfinity)));
        var error = Assert.Throws<ArgumentException>(() => PythonJson.Serialize(new JsonObject { ["tag"] = "bad \udc80" }));
        Assert.Contains("surrogate", error.Message, StringComparison.Ordinal);
    }
}
