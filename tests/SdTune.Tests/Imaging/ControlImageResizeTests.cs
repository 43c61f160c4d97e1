using SdTune.Imaging;
using SkiaSharp;

namespace SdTune.Tests.Imaging;

/// <summary>The three resize modes of sd-webui-controlnet on pixel patterns whose expected output is known exactly.</summary>
public class ControlImageResizeTests
{
    private static SKColor Column(int x) => new((byte)(40 * x), (byte)(255 - (40 * x)), 7);

    [Fact]
    public void Crop_and_resize_keeps_the_centre_window_with_the_offset_rounded_down()
    {
        // 5x2 into 2x2: the scale is max(2/5, 2/2) = 1, so nothing is resampled; the window starts at (5 - 2) div 2 = 1.
        using var image = TestImages.Create(5, 2, (x, _) => Column(x));
        using var fitted = ControlImageResize.Fit(image, 2, 2, ControlResizeMode.CropAndResize);
        Assert.Equal((2, 2), (fitted.Width, fitted.Height));
        for (var y = 0; y < 2; y++)
        {
            Assert.Equal(Column(1), fitted.GetPixel(0, y));
            Assert.Equal(Column(2), fitted.GetPixel(1, y));
        }
    }

    [Fact]
    public void Crop_and_resize_scales_to_cover_then_crops_the_long_side()
    {
        // 8x4 (left half black, right half white) into 4x4: scale 1 by height, crop columns 2..5, so half black, half white.
        using var image = TestImages.Create(8, 4, (x, _) => x < 4 ? SKColors.Black : SKColors.White);
        using var fitted = ControlImageResize.Fit(image, 4, 4, ControlResizeMode.CropAndResize);
        Assert.Equal((4, 4), (fitted.Width, fitted.Height));
        Assert.Equal(SKColors.Black, fitted.GetPixel(0, 0));
        Assert.Equal(SKColors.Black, fitted.GetPixel(1, 3));
        Assert.Equal(SKColors.White, fitted.GetPixel(2, 0));
        Assert.Equal(SKColors.White, fitted.GetPixel(3, 3));

        // 4x2 into 8x8: scaled 2x by height to 16x8, then the 8 middle columns: the output is 8x8 from columns 4..11.
        using var wide = TestImages.Create(4, 2, (x, _) => x < 2 ? SKColors.Black : SKColors.White);
        using var big = ControlImageResize.Fit(wide, 8, 8, ControlResizeMode.CropAndResize);
        Assert.Equal((8, 8), (big.Width, big.Height));
        Assert.True(big.GetPixel(0, 4).Red < 40 && big.GetPixel(7, 4).Red > 215);
    }

    [Fact]
    public void Just_resize_stretches_to_the_target_size()
    {
        using var image = TestImages.Create(6, 2, (x, _) => x < 3 ? SKColors.Black : SKColors.White);
        using var fitted = ControlImageResize.Fit(image, 4, 8, ControlResizeMode.JustResize);
        Assert.Equal((4, 8), (fitted.Width, fitted.Height));
        // Stretching keeps the left half black and the right half white (no crop, no border).
        Assert.True(fitted.GetPixel(0, 0).Red < 40 && fitted.GetPixel(3, 7).Red > 215);
    }

    [Fact]
    public void Resize_and_fill_fits_inside_and_fills_with_the_median_border_colour()
    {
        // A 4x4 image with a grey border (50) and a white centre into 8x16: scale min(8/4, 16/4) = 2 -> 8x8, pasted at
        // row (16 - 8) div 2 = 4; rows 0-3 and 12-15 take the border's median colour exactly.
        var grey = new SKColor(50, 60, 70);
        using var image = TestImages.Create(4, 4, (x, y) => x is 0 or 3 || y is 0 or 3 ? grey : SKColors.White);
        using var fitted = ControlImageResize.Fit(image, 8, 16, ControlResizeMode.ResizeAndFill);
        Assert.Equal((8, 16), (fitted.Width, fitted.Height));
        foreach (var y in new[] { 0, 3, 12, 15 })
        {
            for (var x = 0; x < 8; x++)
            {
                Assert.Equal(grey, fitted.GetPixel(x, y));
            }
        }

        Assert.True(fitted.GetPixel(4, 8).Red > 200, "the image's white centre lands in the middle of the pasted area");
    }

    [Fact]
    public void Resize_and_fill_takes_the_median_of_all_four_edges_per_channel()
    {
        // 3x1: top row = bottom row = [a, b, c], left column [a], right column [c]: values a,b,c,a,b,c,a,c -> per channel
        // sorted, the mean of the middle two (truncated).
        using var image = TestImages.Create(3, 1, (x, _) => x switch { 0 => new SKColor(10, 200, 0), 1 => new SKColor(20, 100, 0), _ => new SKColor(31, 0, 0) });
        using var fitted = ControlImageResize.Fit(image, 3, 3, ControlResizeMode.ResizeAndFill);
        // Red: 10,10,10,20,20,31,31,31 -> (20 + 20) / 2 = 20; green: 0,0,0,100,100,200,200,200 -> 100.
        Assert.Equal(new SKColor(20, 100, 0), fitted.GetPixel(0, 0));
        Assert.Equal(new SKColor(20, 100, 0), fitted.GetPixel(2, 2));
        Assert.Equal(new SKColor(10, 200, 0), fitted.GetPixel(0, 1));
    }

    [Theory]
    [InlineData("Crop and Resize", ControlResizeMode.CropAndResize)]
    [InlineData("crop", ControlResizeMode.CropAndResize)]
    [InlineData("crop-and-resize", ControlResizeMode.CropAndResize)]
    [InlineData("Just Resize", ControlResizeMode.JustResize)]
    [InlineData("just-resize", ControlResizeMode.JustResize)]
    [InlineData("resize and fill", ControlResizeMode.ResizeAndFill)]
    [InlineData("fill", ControlResizeMode.ResizeAndFill)]
    [InlineData("Inner Fit (Scale to Fit)", ControlResizeMode.CropAndResize)]
    public void Mode_names_parse(string name, ControlResizeMode expected)
    {
        Assert.Equal(expected, ControlResizeModes.Parse(name));
        Assert.Equal(ControlResizeModes.Parse(ControlResizeModes.DisplayName(expected)), expected);
    }

    [Fact]
    public void An_unknown_mode_lists_the_valid_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => ControlResizeModes.Parse("stretchy"));
        Assert.Contains("\"Crop and Resize\" (crop)", e.Message, StringComparison.Ordinal);
        Assert.Contains("\"Resize and Fill\" (fill)", e.Message, StringComparison.Ordinal);
    }
}
