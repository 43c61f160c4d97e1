using SdTune.Adapters;
using SdTune.Models;

namespace SdTune.Tests.Workshop;

public class LoraBlockWeightPresetsTests
{
    [Theory]
    // The extension's default presets (17 values: BASE, IN01, IN02, IN04, IN05, IN07, IN08, M00, OUT03…OUT11).
    [InlineData("NONE", "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0")]
    [InlineData("ALL", "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1")]
    [InlineData("INS", "1,1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0")]
    [InlineData("IND", "1,0,0,0,1,1,1,0,0,0,0,0,0,0,0,0,0")]
    [InlineData("INALL", "1,1,1,1,1,1,1,0,0,0,0,0,0,0,0,0,0")]
    [InlineData("MIDD", "1,0,0,0,1,1,1,1,1,1,1,1,0,0,0,0,0")]
    [InlineData("OUTD", "1,0,0,0,0,0,0,0,1,1,1,1,0,0,0,0,0")]
    [InlineData("OUTS", "1,0,0,0,0,0,0,0,0,0,0,0,1,1,1,1,1")]
    [InlineData("OUTALL", "1,0,0,0,0,0,0,0,1,1,1,1,1,1,1,1,1")]
    [InlineData("ALL0.5", "0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5")]
    public void Sd_presets_are_the_extension_defaults(string name, string vector)
    {
        Assert.Equal(Numbers(vector), LoraBlockWeightPresets.Get(name, SdArchitecture.SD1));
        Assert.Equal(Numbers(vector), LoraBlockWeightPresets.Get(name, SdArchitecture.SD2));
        Assert.Equal(Numbers(vector), LoraBlockWeightPresets.Parse(name.ToLowerInvariant(), SdArchitecture.SD1, "lbw"));
    }

    [Theory]
    // SDXL: BASE, IN04, IN05, IN07, IN08, M00, OUT00…OUT05; shallow = IN04/IN05, OUT03…05; deep = IN07/IN08, OUT00…02.
    [InlineData("INS", "1,1,1,0,0,0,0,0,0,0,0,0")]
    [InlineData("IND", "1,0,0,1,1,0,0,0,0,0,0,0")]
    [InlineData("INALL", "1,1,1,1,1,0,0,0,0,0,0,0")]
    [InlineData("MIDD", "1,0,0,1,1,1,1,1,1,0,0,0")]
    [InlineData("OUTD", "1,0,0,0,0,0,1,1,1,0,0,0")]
    [InlineData("OUTS", "1,0,0,0,0,0,0,0,0,1,1,1")]
    [InlineData("OUTALL", "1,0,0,0,0,0,1,1,1,1,1,1")]
    [InlineData("ALL", "1,1,1,1,1,1,1,1,1,1,1,1")]
    public void Sdxl_presets_have_twelve_values(string name, string vector) =>
        Assert.Equal(Numbers(vector), LoraBlockWeightPresets.Get(name, SdArchitecture.SdxlBase));

    [Fact]
    public void Numbers_of_every_valid_length_parse()
    {
        foreach (var length in LoraBlockWeightPresets.ValidLengths)
        {
            var text = string.Join(",", Enumerable.Range(0, length).Select(i => (i * 0.25).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(length, LoraBlockWeightPresets.Parse(text, SdArchitecture.SD1, "lbw").Count);
        }

        var error = Assert.Throws<ArgumentException>(() => LoraBlockWeightPresets.Parse("1,1", SdArchitecture.SdxlBase, "--weights"));
        Assert.StartsWith("--weights: block weights need 12, 17, 20 or 26 values", error.Message, StringComparison.Ordinal);
    }

    private static double[] Numbers(string text) => [.. text.Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture))];
}
