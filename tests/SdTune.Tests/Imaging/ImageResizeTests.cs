using SdTune.Imaging;
using SkiaSharp;

namespace SdTune.Tests.Imaging;

public class ImageResizeTests
{
    [Theory]
    [InlineData(ResizeFilter.Lanczos)]
    [InlineData(ResizeFilter.Mitchell)]
    [InlineData(ResizeFilter.Bicubic)]
    [InlineData(ResizeFilter.Bilinear)]
    public void Constant_images_stay_constant(ResizeFilter filter)
    {
        var color = new SKColor(12, 130, 250);
        using var source = TestImages.Solid(37, 23, color);

        using var down = ImageResize.Resize(source, 10, 7, filter);
        using var up = ImageResize.Resize(source, 80, 41, filter);

        Assert.All(down.Pixels, p => Assert.Equal(color, p));
        Assert.All(up.Pixels, p => Assert.Equal(color, p));
    }

    [Theory]
    [InlineData(ResizeFilter.Lanczos)]
    [InlineData(ResizeFilter.Bicubic)]
    [InlineData(ResizeFilter.Bilinear)]
    public void Same_size_is_the_identity_for_interpolating_filters(ResizeFilter filter)
    {
        using var source = TestImages.Pattern(17, 9);
        using var same = ImageResize.Resize(source, 17, 9, filter);
        Assert.Equal(source.Pixels, same.Pixels);
    }

    [Fact]
    public void Bilinear_halving_averages_with_a_widened_triangle()
    {
        // One row of 8 values shrunk to 4: interior taps are the triangle filter widened by 2 at distances
        // 1.5, 0.5, 0.5, 1.5 -> weights 1,3,3,1 / 8; the first output loses its left tap -> 3,3,1 / 7.
        byte[] row = [0, 40, 80, 120, 200, 10, 250, 30];
        using var source = TestImages.Create(8, 1, (x, _) => new SKColor(row[x], row[x], row[x]));

        using var half = ImageResize.Resize(source, 4, 1, ResizeFilter.Bilinear);

        double[] expected =
        [
            ((3.0 * row[0]) + (3.0 * row[1]) + row[2]) / 7,
            (row[1] + (3.0 * row[2]) + (3.0 * row[3]) + row[4]) / 8,
            (row[3] + (3.0 * row[4]) + (3.0 * row[5]) + row[6]) / 8,
            (row[5] + (3.0 * row[6]) + (3.0 * row[7])) / 7,
        ];
        for (var i = 0; i < 4; i++)
        {
            Assert.InRange(half.GetPixel(i, 0).Red, Math.Round(expected[i]) - 1, Math.Round(expected[i]) + 1);
        }
    }

    [Fact]
    public void Lanczos_keeps_a_ramp_a_ramp_when_shrinking()
    {
        using var source = TestImages.Create(96, 4, (x, _) => new SKColor((byte)(x * 2), 0, 0));
        using var third = ImageResize.Resize(source, 32, 4, ResizeFilter.Lanczos);

        // Output i covers source 3i..3i+2, whose mean is 2 * (3i + 1); away from the edges the ramp is exact.
        for (var i = 3; i < 29; i++)
        {
            Assert.InRange(third.GetPixel(i, 1).Red, (2 * ((3 * i) + 1)) - 1, (2 * ((3 * i) + 1)) + 1);
        }
    }

    [Fact]
    public void Resize_to_fill_scales_the_short_side_and_crops_the_centre()
    {
        // 40x20 with a 10-pixel red border on the left and right; filling 20x20 keeps the centre only.
        using var source = TestImages.Create(40, 20, (x, _) => x < 10 || x >= 30 ? new SKColor(255, 0, 0) : new SKColor(0, 0, 255));

        using var filled = ImageResize.ResizeToFill(source, 20, 20);
        using var scaled = ImageResize.ResizeToFill(source, 10, 10);

        Assert.Equal((20, 20), (filled.Width, filled.Height));
        Assert.All(filled.Pixels, p => Assert.Equal(new SKColor(0, 0, 255), p));
        Assert.Equal((10, 10), (scaled.Width, scaled.Height));
        Assert.Equal(new SKColor(0, 0, 255), scaled.GetPixel(5, 5));
    }

    [Fact]
    public void Crops_take_the_requested_rectangle()
    {
        using var source = TestImages.Pattern(9, 6);

        using var crop = ImageCrop.Crop(source, 2, 1, 4, 3);
        using var centre = ImageCrop.CenterCrop(source, 6, 3);

        Assert.Equal(source.GetPixel(2, 1), crop.GetPixel(0, 0));
        Assert.Equal(source.GetPixel(5, 3), crop.GetPixel(3, 2));

        // (9 - 6) / 2 = 1.5 and (6 - 3) / 2 = 1.5 both round half to even: offset (2, 2).
        Assert.Equal((2, 2), ImageCrop.CenterOffset(9, 6, 6, 3));
        Assert.Equal(source.GetPixel(2, 2), centre.GetPixel(0, 0));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ImageCrop.Crop(source, 6, 0, 4, 3));
        Assert.Contains("4x3 at (6, 0)", error.Message, StringComparison.Ordinal);
    }
}
