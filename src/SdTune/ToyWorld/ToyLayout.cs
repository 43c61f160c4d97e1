namespace SdTune.ToyWorld;

/// <summary>Where and how large shapes are drawn, as fractions of the image side; shared by the generator and the evaluator.</summary>
internal static class ToyLayout
{
    /// <summary>The largest jitter of the shape's centre, per axis, as a fraction of the image side.</summary>
    public const double MaxJitter = 0.03;

    /// <summary>The smallest gap kept between the shape's bounding box and the image border.</summary>
    private const double Margin = 0.04;

    private static readonly double[] Extents = [0.25, 0.36, 0.5];

    /// <summary>The shape's larger side as a fraction of the image side.</summary>
    public static double Extent(ToySize size) => Extents[(int)size];

    /// <summary>Column (0–2) and row (0–2) of a grid position.</summary>
    public static (int Column, int Row) Cell(ToyPosition position) => ((int)position % 3, (int)position / 3);

    /// <summary>The grid position of a column and row.</summary>
    public static ToyPosition FromCell(int column, int row) => (ToyPosition)((row * 3) + column);

    /// <summary>
    /// The nominal centre coordinate (fraction of the side) of grid column or row <paramref name="index"/> for a shape
    /// of this size: the cell's centre, moved inwards where the shape would otherwise come closer than the margin to
    /// the border (a large shape cannot sit at 1/6 of the side).
    /// </summary>
    public static double Centre(int index, ToySize size)
    {
        var half = (Extent(size) / 2) + Margin + MaxJitter;
        return Math.Clamp((index + 0.5) / 3, half, 1 - half);
    }
}
