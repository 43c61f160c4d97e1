using SdTune.Imaging;

namespace SdTune.Tests.Imaging;

/// <summary>The infotext of sd-webui-controlnet's units: written in its layout and read back through the A1111 parser.</summary>
public class ControlNetUnitInfotextTests
{
    [Fact]
    public void A_unit_is_written_as_the_extension_writes_it_and_read_back_from_the_whole_infotext()
    {
        var unit = new ControlNetUnitInfotext { Module = "canny", Model = "control_sd15_canny [fef5e48e]", Weight = 0.5, GuidanceStart = 0.25 };
        Assert.Equal(
            "Module: canny, Model: control_sd15_canny [fef5e48e], Weight: 0.5, Resize Mode: Crop and Resize, Guidance Start: 0.25, Guidance End: 1, Control Mode: Balanced",
            unit.ToText());

        var info = new GenerationInfotext
        {
            Prompt = "a cat",
            Steps = 20,
            Sampler = "Euler a",
            CfgScale = 7,
            Seed = 1,
            Width = 512,
            Height = 512,
            Extra = [new(ControlNetUnitInfotext.Key(0), unit.ToText()), new(ControlNetUnitInfotext.Key(1), (unit with { Module = "none", ControlMode = ControlNetUnitInfotext.ControlNetMoreImportant }).ToText())],
        };
        var text = info.ToText();
        Assert.Contains("ControlNet 0: \"Module: canny, Model: control_sd15_canny [fef5e48e], Weight: 0.5,", text, StringComparison.Ordinal);

        var units = ControlNetUnitInfotext.From(GenerationInfotext.Parse(text));
        Assert.Equal(2, units.Count);
        Assert.Equal(unit, units[0] with { Other = unit.Other });
        Assert.Equal(("none", ControlNetUnitInfotext.ControlNetMoreImportant), (units[1].Module, units[1].ControlMode));
    }

    [Fact]
    public void Fields_written_by_the_extension_that_are_not_modelled_are_kept()
    {
        var unit = ControlNetUnitInfotext.Parse("Module: canny, Model: x [1234abcd], Weight: 1, Resize Mode: Just Resize, Low Vram: False, Processor Res: 512, Threshold A: 100, Threshold B: 200, Guidance Start: 0, Guidance End: 0.8, Pixel Perfect: False, Control Mode: Balanced");
        Assert.Equal(("Just Resize", 0.8), (unit.ResizeMode, unit.GuidanceEnd));
        Assert.Equal(["Low Vram", "Processor Res", "Threshold A", "Threshold B", "Pixel Perfect"], unit.Other.Select(o => o.Key));
    }

    [Fact]
    public void Values_that_would_not_read_back_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new ControlNetUnitInfotext { Model = "a, b" }.ToText());
        Assert.Throws<FormatException>(() => ControlNetUnitInfotext.Parse("Module: canny, Weight: 1"));
        Assert.Throws<FormatException>(() => ControlNetUnitInfotext.Parse("Model: m, Weight: heavy"));
    }
}
