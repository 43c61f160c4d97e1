using SdTune.Imaging.Preprocessors;
using SkiaSharp;

namespace SdTune.Tests.Imaging.Preprocessors;

/// <summary>The preprocessors on synthetic images whose right answer can be stated.</summary>
public class PreprocessorTests
{
    private const int Size = 64;

    /// <summary>A <paramref name="value"/>-grey square over [16, 48) x [16, 48) on black.</summary>
    private static SKBitmap Square(byte value) =>
        TestImages.Create(Size, Size, (x, y) => x is >= 16 and < 48 && y is >= 16 and < 48 ? new SKColor(value, value, value) : SKColors.Black);

    private static bool[,] White(SKBitmap map)
    {
        var white = new bool[map.Width, map.Height];
        for (var y = 0; y < map.Height; y++)
        {
            for (var x = 0; x < map.Width; x++)
            {
                var p = map.GetPixel(x, y);
                Assert.True(p.Red == p.Green && p.Green == p.Blue, "the map is grey: the same value in R, G and B");
                Assert.True(p.Red is 0 or 255, $"a binary map has only 0 and 255, found {p.Red}");
                white[x, y] = p.Red == 255;
            }
        }

        return white;
    }

    [Fact]
    public void Canny_finds_the_border_of_a_filled_square_and_nothing_inside_or_outside()
    {
        using var square = Square(255);
        using var edges = PreprocessorRegistry.Run("canny", square);
        var white = White(edges);
        var count = 0;
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                // The step lies between pixels 15|16 and 47|48: an edge pixel is on one side of it, at most one away.
                var onBorder = (x is >= 15 and <= 48 && y is >= 15 and <= 48) && !(x is > 16 and < 47 && y is > 16 and < 47);
                if (white[x, y])
                {
                    count++;
                    Assert.True(onBorder, $"edge pixel ({x}, {y}) is not on the square's border");
                }
            }
        }

        // Every side is found along its length (corners may be rounded off by non-maximum suppression).
        for (var i = 18; i < 46; i++)
        {
            Assert.True(white[i, 15] || white[i, 16], $"top side missing at x = {i}");
            Assert.True(white[i, 47] || white[i, 48], $"bottom side missing at x = {i}");
            Assert.True(white[15, i] || white[16, i], $"left side missing at y = {i}");
            Assert.True(white[47, i] || white[48, i], $"right side missing at y = {i}");
        }

        Assert.InRange(count, 4 * 28, 4 * 36 * 2);
    }

    [Fact]
    public void Canny_thresholds_decide_whether_a_faint_square_has_edges()
    {
        // A step of 40 grey levels: the 3x3 Sobel gives |gx| + |gy| = 4 * 40 = 160 across a straight side and at most
        // 120 + 120 = 240 at the square's inner corners. Edges start above the high threshold and continue above the low one.
        using var faint = Square(40);
        var settings = PreprocessorRegistry.Find("canny");
        using var found = settings.Apply(faint, new Dictionary<string, double> { ["low"] = 100, ["high"] = 150 });
        using var missed = settings.Apply(faint, new Dictionary<string, double> { ["low"] = 100, ["high"] = 250 });
        using var cornersOnly = settings.Apply(faint, new Dictionary<string, double> { ["low"] = 200, ["high"] = 200 });
        Assert.True(Count(White(found)) > 100);
        Assert.Equal(0, Count(White(missed)));
        Assert.InRange(Count(White(cornersOnly)), 1, 16);
        // A flat image has no edges at any threshold.
        using var flat = TestImages.Solid(Size, Size, new SKColor(90, 90, 90));
        using var none = settings.Apply(flat, new Dictionary<string, double> { ["low"] = 1, ["high"] = 1 });
        Assert.Equal(0, Count(White(none)));
    }

    [Fact]
    public void Threshold_is_white_exactly_where_the_luma_exceeds_it()
    {
        // Luma of a grey pixel is its value: columns 0..63 take the values 4x.
        using var ramp = TestImages.Create(Size, 4, (x, _) => new SKColor((byte)(4 * x), (byte)(4 * x), (byte)(4 * x)));
        using var binary = PreprocessorRegistry.Run("threshold", ramp, new Dictionary<string, double> { ["threshold"] = 100 });
        var white = White(binary);
        for (var x = 0; x < Size; x++)
        {
            Assert.Equal(4 * x > 100, white[x, 2]);
        }
    }

    [Fact]
    public void Invert_maps_each_channel_to_255_minus_it_and_is_its_own_inverse()
    {
        using var pattern = TestImages.Pattern(9, 7);
        using var inverted = PreprocessorRegistry.Run("invert", pattern);
        using var back = PreprocessorRegistry.Run("invert", inverted);
        for (var y = 0; y < 7; y++)
        {
            for (var x = 0; x < 9; x++)
            {
                var (p, q) = (pattern.GetPixel(x, y), inverted.GetPixel(x, y));
                Assert.Equal(new SKColor((byte)(255 - p.Red), (byte)(255 - p.Green), (byte)(255 - p.Blue)), q);
                Assert.Equal(p, back.GetPixel(x, y));
            }
        }
    }

    [Fact]
    public void Gradient_is_black_on_flat_areas_and_brightest_on_the_border()
    {
        using var square = Square(255);
        using var soft = PreprocessorRegistry.Run("gradient", square);
        Assert.Equal(SKColors.Black, soft.GetPixel(32, 32));
        Assert.Equal(SKColors.Black, soft.GetPixel(2, 2));
        var side = Math.Max(soft.GetPixel(32, 15).Red, soft.GetPixel(32, 16).Red);
        Assert.True(side > 200, $"the side is bright ({side})");
        Assert.Equal(soft.GetPixel(32, 16).Red, soft.GetPixel(16, 32).Red); // symmetric
        using var flat = TestImages.Solid(8, 8, new SKColor(90, 90, 90));
        using var dark = PreprocessorRegistry.Run("gradient", flat);
        Assert.Equal(SKColors.Black, dark.GetPixel(4, 4));
    }

    [Fact]
    public void Unknown_names_and_settings_are_errors_that_say_what_is_valid()
    {
        using var image = TestImages.Solid(4, 4, SKColors.White);
        var unknown = Assert.Throws<ArgumentException>(() => PreprocessorRegistry.Run("hed", image));
        Assert.Contains("canny, threshold, invert, gradient", unknown.Message, StringComparison.Ordinal);
        var foreign = Assert.Throws<ArgumentException>(() => PreprocessorRegistry.Run("canny", image, new Dictionary<string, double> { ["threshold"] = 3 }));
        Assert.Contains("--threshold does not apply to the canny preprocessor (it takes --low, --high)", foreign.Message, StringComparison.Ordinal);
        var range = Assert.Throws<ArgumentException>(() => PreprocessorRegistry.Run("canny", image, new Dictionary<string, double> { ["high"] = 300 }));
        Assert.Contains("--high: 300 is out of range", range.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_system_library_is_named_with_its_debian_package()
    {
        var failure = new TypeInitializationException("OpenCvSharp.Internal.NativeMethods", new DllNotFoundException(
            "Unable to load shared library 'OpenCvSharpExtern' or one of its dependencies. In order to help diagnose loading problems, consider using a tool like strace. " +
            "If you're using glibc, consider setting the LD_DEBUG environment variable: \nlibgtk-3.so.0: cannot open shared object file: No such file or directory\n" +
            "/app/libOpenCvSharpExtern.so: cannot open shared object file: No such file or directory"));
        var message = OpenCvRuntime.Describe(failure);
        Assert.Contains("libgtk-3.so.0 is missing", message, StringComparison.Ordinal);
        Assert.Contains("apt-get install libgtk-3-0", message, StringComparison.Ordinal);
        // OpenCV itself loads on this machine (CI installs its libraries).
        OpenCvRuntime.EnsureLoaded();
    }

    private static int Count(bool[,] white) => white.Cast<bool>().Count(w => w);
}
