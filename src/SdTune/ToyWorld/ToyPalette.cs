using SkiaSharp;

namespace SdTune.ToyWorld;

/// <summary>
/// The RGB values of <see cref="ToyColor"/>. They are chosen far apart (every pair at least ~100 apart in RGB), so a
/// pixel's colour can be named reliably even after blur and noise.
/// </summary>
public static class ToyPalette
{
    private static readonly (byte R, byte G, byte B)[] Values =
    [
        (220, 30, 30),   // red
        (30, 170, 60),   // green
        (30, 70, 220),   // blue
        (250, 225, 40),  // yellow
        (140, 50, 180),  // purple
        (245, 125, 20),  // orange
        (245, 245, 245), // white
        (20, 20, 20),    // black
    ];

    /// <summary>Every colour of the palette, in enum order.</summary>
    public static IReadOnlyList<ToyColor> Colors { get; } = Enum.GetValues<ToyColor>();

    /// <summary>The RGB value of a colour.</summary>
    /// <param name="color">The colour.</param>
    public static (byte R, byte G, byte B) Rgb(ToyColor color) => Values[(int)color];

    /// <summary>The colour as an opaque Skia colour.</summary>
    /// <param name="color">The colour.</param>
    public static SKColor ToSkia(ToyColor color)
    {
        var (r, g, b) = Rgb(color);
        return new SKColor(r, g, b);
    }

    /// <summary>The palette colour nearest (in RGB) to a pixel value.</summary>
    /// <param name="r">Red, 0–255.</param>
    /// <param name="g">Green, 0–255.</param>
    /// <param name="b">Blue, 0–255.</param>
    public static ToyColor Nearest(double r, double g, double b)
    {
        var best = ToyColor.Red;
        var bestDistance = double.MaxValue;
        foreach (var color in Colors)
        {
            var d = DistanceSquared(color, r, g, b);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = color;
            }
        }

        return best;
    }

    internal static double DistanceSquared(ToyColor color, double r, double g, double b)
    {
        var (cr, cg, cb) = Values[(int)color];
        return ((r - cr) * (r - cr)) + ((g - cg) * (g - cg)) + ((b - cb) * (b - cb));
    }
}
