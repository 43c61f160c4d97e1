namespace SdTune.ToyWorld;

/// <summary>
/// The layout of each <see cref="ToyPattern"/> in the shape's bounding box, with u (left to right) and v (top to
/// bottom) in [0, 1]. The generator draws these regions in the second colour; the evaluator matches them.
/// </summary>
internal static class ToyPatterns
{
    private const int Stripes = 5;
    private const int Checks = 4;
    private const int DotsPerSide = 3;
    private const double DotRadius = 0.1;

    /// <summary>True where the pattern shows its second colour.</summary>
    public static bool IsSecond(ToyPattern pattern, double u, double v) => pattern switch
    {
        ToyPattern.Solid => false,
        ToyPattern.Striped => Band(v, Stripes) % 2 == 1,
        ToyPattern.Checkered => (Band(u, Checks) + Band(v, Checks)) % 2 == 1,
        ToyPattern.Halves => u >= 0.5,
        ToyPattern.Dotted => InDot(u, v),
        _ => throw new ArgumentOutOfRangeException(nameof(pattern), pattern, "Unknown pattern."),
    };

    /// <summary>
    /// The second-colour regions of a pattern as rectangles and circles in the unit box (left, top, right, bottom; or
    /// centre and radius), for drawing.
    /// </summary>
    public static (List<(double L, double T, double R, double B)> Rects, List<(double X, double Y, double Radius)> Dots) Regions(ToyPattern pattern)
    {
        var rects = new List<(double, double, double, double)>();
        var dots = new List<(double, double, double)>();
        switch (pattern)
        {
            case ToyPattern.Solid:
                break;
            case ToyPattern.Striped:
                for (var i = 1; i < Stripes; i += 2)
                {
                    rects.Add((0, (double)i / Stripes, 1, (double)(i + 1) / Stripes));
                }

                break;
            case ToyPattern.Checkered:
                for (var row = 0; row < Checks; row++)
                {
                    for (var column = 0; column < Checks; column++)
                    {
                        if ((row + column) % 2 == 1)
                        {
                            rects.Add(((double)column / Checks, (double)row / Checks, (double)(column + 1) / Checks, (double)(row + 1) / Checks));
                        }
                    }
                }

                break;
            case ToyPattern.Halves:
                rects.Add((0.5, 0, 1, 1));
                break;
            case ToyPattern.Dotted:
                for (var row = 0; row < DotsPerSide; row++)
                {
                    for (var column = 0; column < DotsPerSide; column++)
                    {
                        dots.Add((DotCentre(column), DotCentre(row), DotRadius));
                    }
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(pattern), pattern, "Unknown pattern.");
        }

        return (rects, dots);
    }

    private static int Band(double x, int count) => Math.Clamp((int)Math.Floor(x * count), 0, count - 1);

    private static double DotCentre(int index) => (index + 0.5) / DotsPerSide;

    private static bool InDot(double u, double v)
    {
        var du = u - DotCentre(Band(u, DotsPerSide));
        var dv = v - DotCentre(Band(v, DotsPerSide));
        return (du * du) + (dv * dv) <= DotRadius * DotRadius;
    }
}
