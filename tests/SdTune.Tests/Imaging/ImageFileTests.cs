using SdTune.Imaging;
using SkiaSharp;

namespace SdTune.Tests.Imaging;

public class ImageFileTests
{
    [Fact]
    public void Png_pixels_load_unchanged_as_opaque_rgba()
    {
        using var dir = TestPaths.NewTempDir();
        using var source = TestImages.Pattern(13, 7);
        File.WriteAllBytes(dir.File("a.png"), TestImages.EncodePng(source));

        using var loaded = ImageFile.Load(dir.File("a.png"));

        Assert.Equal((13, 7), (loaded.Width, loaded.Height));
        Assert.Equal(SKColorType.Rgba8888, loaded.ColorType);
        Assert.Equal(SKAlphaType.Opaque, loaded.AlphaType);
        for (var y = 0; y < 7; y++)
        {
            for (var x = 0; x < 13; x++)
            {
                Assert.Equal(source.GetPixel(x, y), loaded.GetPixel(x, y));
            }
        }
    }

    [Fact]
    public void Transparency_is_composited_on_white_or_the_given_matte()
    {
        using var dir = TestPaths.NewTempDir();
        using var source = TestImages.Create(3, 1, (x, _) => x switch
        {
            0 => new SKColor(200, 40, 0, 0),
            1 => new SKColor(200, 40, 0, 128),
            _ => new SKColor(200, 40, 0, 255),
        });
        File.WriteAllBytes(dir.File("alpha.png"), TestImages.EncodePng(source));

        using var onWhite = ImageFile.Load(dir.File("alpha.png"));
        using var onBlack = ImageFile.Load(dir.File("alpha.png"), SKColors.Black);

        static byte Over(int c, int m, int a) => (byte)Math.Round(((c * a) + (m * (255 - a))) / 255.0, MidpointRounding.AwayFromZero);
        Assert.Equal(new SKColor(255, 255, 255), onWhite.GetPixel(0, 0));
        Assert.Equal(new SKColor(Over(200, 255, 128), Over(40, 255, 128), Over(0, 255, 128)), onWhite.GetPixel(1, 0));
        Assert.Equal(new SKColor(200, 40, 0), onWhite.GetPixel(2, 0));
        Assert.Equal(new SKColor(Over(200, 0, 128), Over(40, 0, 128), 0), onBlack.GetPixel(1, 0));
    }

    [Fact]
    public void Grayscale_png_becomes_rgb_with_equal_channels()
    {
        using var dir = TestPaths.NewTempDir();
        using var gray = new SKBitmap(new SKImageInfo(4, 2, SKColorType.Gray8, SKAlphaType.Opaque));
        var pixels = gray.GetPixelSpan();
        for (var i = 0; i < 8; i++)
        {
            pixels[(i / 4 * gray.RowBytes) + (i % 4)] = (byte)(i * 30);
        }

        File.WriteAllBytes(dir.File("gray.png"), TestImages.EncodePng(gray));
        using var loaded = ImageFile.Load(dir.File("gray.png"));

        for (var i = 0; i < 8; i++)
        {
            var v = (byte)(i * 30);
            Assert.Equal(new SKColor(v, v, v), loaded.GetPixel(i % 4, i / 4));
        }
    }

    [Theory]
    [InlineData(1, 32, 16)]
    [InlineData(3, 32, 16)]
    [InlineData(6, 16, 32)]
    [InlineData(8, 16, 32)]
    public void Exif_orientation_is_applied(ushort orientation, int width, int height)
    {
        using var dir = TestPaths.NewTempDir();

        // Stored 32x16: left half red, right half blue, a green band along the top rows.
        using var stored = TestImages.Create(32, 16, (x, y) => y < 4 ? new SKColor(0, 255, 0) : x < 16 ? new SKColor(255, 0, 0) : new SKColor(0, 0, 255));
        File.WriteAllBytes(dir.File("o.jpg"), TestImages.WithExifOrientation(TestImages.EncodeJpeg(stored), orientation));

        using var loaded = ImageFile.Load(dir.File("o.jpg"));

        Assert.Equal((width, height), (loaded.Width, loaded.Height));

        // Where the stored image's regions land once shown upright (sampled away from JPEG edges).
        var (red, blue, green) = orientation switch
        {
            1 => ((8, 10), (24, 10), (16, 1)),
            3 => ((24, 5), (8, 5), (16, 14)), // 180°: red on the right, green band at the bottom
            6 => ((5, 8), (5, 24), (14, 16)), // 90° clockwise: left goes to top, top goes to right
            _ => ((10, 24), (10, 8), (1, 16)), // 90° counter-clockwise: left goes to bottom, top goes to left
        };
        AssertNear(new SKColor(255, 0, 0), loaded.GetPixel(red.Item1, red.Item2));
        AssertNear(new SKColor(0, 0, 255), loaded.GetPixel(blue.Item1, blue.Item2));
        AssertNear(new SKColor(0, 255, 0), loaded.GetPixel(green.Item1, green.Item2));
    }

    [Fact]
    public void Truncated_png_fails_with_the_file_name()
    {
        using var dir = TestPaths.NewTempDir();
        using var source = TestImages.Pattern(64, 64);
        var png = TestImages.EncodePng(source);
        var path = dir.File("truncated.png");
        File.WriteAllBytes(path, png[..(png.Length / 2)]);

        var error = Assert.Throws<ImageLoadException>(() => ImageFile.Load(path));

        Assert.Contains("truncated.png", error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message.Replace("truncated.png", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal(path, error.FilePath);
    }

    [Fact]
    public void Text_file_named_png_fails_with_the_file_name()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("notes.png");
        File.WriteAllText(path, "this is not an image\n");

        var error = Assert.Throws<ImageLoadException>(() => ImageFile.Load(path));

        Assert.Contains("notes.png", error.Message, StringComparison.Ordinal);
        Assert.Contains("not an image", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_fails_with_the_file_name()
    {
        using var dir = TestPaths.NewTempDir();
        var error = Assert.Throws<ImageLoadException>(() => ImageFile.Load(dir.File("absent.jpg")));
        Assert.Contains("absent.jpg", error.Message, StringComparison.Ordinal);
    }

    private static void AssertNear(SKColor expected, SKColor actual)
    {
        // JPEG is lossy: large flat regions stay within a few levels.
        Assert.True(
            Math.Abs(expected.Red - actual.Red) <= 24 && Math.Abs(expected.Green - actual.Green) <= 24 && Math.Abs(expected.Blue - actual.Blue) <= 24,
            $"expected about {expected}, got {actual}");
    }
}
