using SdTune.Imaging;
using SkiaSharp;

namespace SdTune.Tests.Cli;

/// <summary><c>sdtune preprocess</c>.</summary>
public class PreprocessCommandTests
{
    [Fact]
    public void Canny_writes_an_rgb_png_of_white_edges_on_black_and_the_thresholds_matter()
    {
        using var dir = TestPaths.NewTempDir();
        var input = dir.File("square.png");
        using (var square = Imaging.TestImages.Create(32, 32, (x, y) => x is >= 8 and < 24 && y is >= 8 and < 24 ? new SKColor(40, 40, 40) : SKColors.Black))
        {
            PngWriter.Save(input, square);
        }

        var output = dir.File("maps/edges.png");
        var (code, stdout, stderr) = InspectCommandTests.Run("preprocess", "canny", input, "--out", output, "--low", "50", "--high", "150");
        Assert.True(code == 0, stderr);
        Assert.Equal(output, stdout.Trim());
        var bytes = File.ReadAllBytes(output);
        Assert.Equal(2, bytes[25]); // IHDR colour type 2: RGB without alpha
        using var edges = ImageFile.Load(output);
        Assert.Equal(SKColors.White, edges.GetPixel(16, 8).Red == 255 ? edges.GetPixel(16, 8) : edges.GetPixel(16, 7));
        Assert.Equal(SKColors.Black, edges.GetPixel(16, 16));

        // A high threshold above the strongest gradient of the step (240, at the inner corners) finds nothing.
        Assert.Equal(0, InspectCommandTests.Run("preprocess", "canny", input, "--out", output, "--high", "250").ExitCode);
        using var none = ImageFile.Load(output);
        Assert.All(BitmapBytes(none), b => Assert.True(b is 0 or 255));
        Assert.Equal(0, BitmapBytes(none).Where((_, i) => i % 4 == 0).Count(b => b == 255));
    }

    [Theory]
    [InlineData(new[] { "hed" }, "Unknown preprocessor 'hed'. Valid preprocessors: canny, threshold, invert, gradient")]
    [InlineData(new[] { "canny", "--threshold", "3" }, "--threshold does not apply to the canny preprocessor")]
    [InlineData(new[] { "canny", "--high", "999" }, "--high: 999 is out of range")]
    [InlineData(new[] { "invert", "--image-missing" }, "missing.png")]
    public void Bad_input_exits_2_with_one_line(string[] args, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        var input = dir.File("in.png");
        using (var image = Imaging.TestImages.Solid(4, 4, SKColors.Gray))
        {
            PngWriter.Save(input, image);
        }

        var image0 = args.Contains("--image-missing") ? dir.File("missing.png") : input;
        string[] full = ["preprocess", args[0], image0, "--out", dir.File("out.png"), .. args.Skip(1).Where(a => a != "--image-missing")];
        var (code, _, error) = InspectCommandTests.Run(full);
        Assert.Equal(2, code);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("out.png")));
    }

    private static byte[] BitmapBytes(SKBitmap bitmap) => bitmap.GetPixelSpan().ToArray();
}
