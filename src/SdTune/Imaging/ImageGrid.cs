using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>
/// Tiles same-sized images into one grid image, like A1111's <c>image_grid</c>: row-major order, no gaps (unless a
/// label needs the room), unused cells black. By default there are <c>round(sqrt(n))</c> rows (A1111's default) and as many columns as needed;
/// with <c>columns</c> given, as many rows as needed. The labelled variant adds captions above the columns and to
/// the left of the rows (prompt matrices, before/after comparisons), in the style of A1111's grid annotations.
/// </summary>
public static class ImageGrid
{
    /// <summary>A grid of <paramref name="images"/>; all must have the size of the first.</summary>
    public static SKBitmap Create(IReadOnlyList<SKBitmap> images, int? columns = null)
    {
        var (cols, rows) = Layout(images, columns);
        return Compose(images, cols, rows, 0, 0, images[0].Width, images[0].Height);
    }

    /// <summary>
    /// A grid with captions: <paramref name="columnLabels"/> (one per column, which also fixes the column count
    /// when not empty) above the grid and <paramref name="rowLabels"/> (one per row, or none) on its left. Text is
    /// black on white, at A1111's size for the cell size but never below a readable minimum: column labels wrap to the
    /// column width; row labels sit in a column as wide as their longest line, wrapped to fit a cell's height where a
    /// column of moderate width allows it. A column or row whose label needs more room than its picture grows (the
    /// picture centred, white around it), so no text is drawn over a picture. Without a usable font (none given and
    /// none of DejaVu Sans, Liberation Sans, Arial found) the grid is returned unlabelled and <paramref name="warn"/>
    /// is told why.
    /// </summary>
    public static SKBitmap CreateLabelled(
        IReadOnlyList<SKBitmap> images,
        IReadOnlyList<string> columnLabels,
        IReadOnlyList<string>? rowLabels = null,
        SKTypeface? typeface = null,
        Action<string>? warn = null) =>
        CreateLabelled(images, columnLabels, rowLabels ?? [], typeface, warn, GridFont.DefaultCandidates, askFontManager: true);

    internal static SKBitmap CreateLabelled(
        IReadOnlyList<SKBitmap> images,
        IReadOnlyList<string> columnLabels,
        IReadOnlyList<string> rowLabels,
        SKTypeface? typeface,
        Action<string>? warn,
        IEnumerable<string> fontCandidates,
        bool askFontManager,
        int? columns = null)
    {
        ArgumentNullException.ThrowIfNull(columnLabels);
        ArgumentNullException.ThrowIfNull(rowLabels);
        var (cols, rows) = Layout(images, columnLabels.Count > 0 ? columnLabels.Count : columns);
        if (rowLabels.Count != 0 && rowLabels.Count != rows)
        {
            throw new ArgumentException($"The grid has {rows} rows but {rowLabels.Count} row labels were given.", nameof(rowLabels));
        }

        var owned = typeface is null ? GridFont.Locate(fontCandidates, askFontManager) : null;
        try
        {
            var face = typeface ?? owned;
            if (face is null || !GridFont.CanDraw(face))
            {
                warn?.Invoke("No usable font for grid labels (tried DejaVu Sans, Liberation Sans, Arial); the grid is saved without labels.");
                return Compose(images, cols, rows, 0, 0, images[0].Width, images[0].Height);
            }

            var cellWidth = images[0].Width;
            var cellHeight = images[0].Height;
            using var font = new SKFont(face, GridLabels.FontSizeFor(cellWidth, cellHeight));
            var plan = GridLabels.Plan(font, cellWidth, cellHeight, columnLabels, rowLabels);
            var (left, top, columnPitch, rowPitch) = (plan.LabelColumnWidth, plan.HeaderHeight, plan.ColumnPitch, plan.RowPitch);

            var grid = Compose(images, cols, rows, left, top, columnPitch, rowPitch);
            using var canvas = new SKCanvas(grid);
            using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            for (var c = 0; c < plan.ColumnLines.Count; c++)
            {
                DrawLabel(canvas, plan.ColumnLines[c], SKRect.Create(left + (c * columnPitch), 0, columnPitch, top), font, paint);
            }

            for (var r = 0; r < plan.RowLines.Count; r++)
            {
                DrawLabel(canvas, plan.RowLines[r], SKRect.Create(0, top + (r * rowPitch), left, rowPitch), font, paint);
            }

            canvas.Flush();
            return grid;
        }
        finally
        {
            owned?.Dispose();
        }
    }

    private static (int Columns, int Rows) Layout(IReadOnlyList<SKBitmap> images, int? columns)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
        {
            throw new ArgumentException("A grid needs at least one image.", nameof(images));
        }

        for (var i = 1; i < images.Count; i++)
        {
            if (images[i].Width != images[0].Width || images[i].Height != images[0].Height)
            {
                throw new ArgumentException(
                    $"Grid images must have one size: image 0 is {images[0].Width}x{images[0].Height}, image {i} is {images[i].Width}x{images[i].Height}.",
                    nameof(images));
            }
        }

        var n = images.Count;
        if (columns is { } cols)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(cols, 1, nameof(columns));
            return (cols, (n + cols - 1) / cols);
        }

        var rows = Math.Clamp((int)Math.Round(Math.Sqrt(n), MidpointRounding.ToEven), 1, n);
        return ((n + rows - 1) / rows, rows);
    }

    /// <summary>
    /// The grid bitmap: the margins (<paramref name="padLeft"/>, <paramref name="padTop"/>) and the space between
    /// pictures in cells larger than them (<paramref name="columnPitch"/> x <paramref name="rowPitch"/>, a picture
    /// centred in each) white, empty cells black.
    /// </summary>
    private static SKBitmap Compose(IReadOnlyList<SKBitmap> images, int cols, int rows, int padLeft, int padTop, int columnPitch, int rowPitch)
    {
        var cellWidth = images[0].Width;
        var cellHeight = images[0].Height;
        var width = padLeft + (cols * columnPitch);
        var height = padTop + (rows * rowPitch);
        var pixels = new byte[width * height * 4];
        pixels.AsSpan().Fill(255);
        var words = MemoryMarshalHelpers.AsUInts(pixels.AsSpan());
        var black = BitConverter.IsLittleEndian ? 0xFF000000u : 0x000000FFu;
        for (var i = 0; i < cols * rows; i++)
        {
            var (x0, y0) = CellOrigin(i, cols, padLeft, padTop, columnPitch, rowPitch, cellWidth, cellHeight);
            if (i >= images.Count)
            {
                for (var y = 0; y < cellHeight; y++)
                {
                    words.Slice(((y0 + y) * width) + x0, cellWidth).Fill(black);
                }

                continue;
            }

            var cell = BitmapPixels.ReadOpaqueRgba(images[i]);
            for (var y = 0; y < cellHeight; y++)
            {
                cell.AsSpan(y * cellWidth * 4, cellWidth * 4).CopyTo(pixels.AsSpan((((y0 + y) * width) + x0) * 4));
            }
        }

        return BitmapPixels.CreateOpaque(width, height, pixels);
    }

    /// <summary>The top left pixel of picture <paramref name="index"/>: row-major, centred in its cell.</summary>
    private static (int X, int Y) CellOrigin(int index, int cols, int padLeft, int padTop, int columnPitch, int rowPitch, int cellWidth, int cellHeight) =>
        (padLeft + ((index % cols) * columnPitch) + ((columnPitch - cellWidth) / 2), padTop + ((index / cols) * rowPitch) + ((rowPitch - cellHeight) / 2));

    /// <summary>Draws <paramref name="lines"/> centred in <paramref name="area"/>, clipped to it.</summary>
    private static void DrawLabel(SKCanvas canvas, IReadOnlyList<string> lines, SKRect area, SKFont font, SKPaint paint)
    {
        canvas.Save();
        canvas.ClipRect(area);
        var baseline = area.Top + ((area.Height - (lines.Count * font.Spacing)) / 2) - font.Metrics.Ascent;
        foreach (var line in lines)
        {
            canvas.DrawText(line, area.MidX, baseline, SKTextAlign.Center, font, paint);
            baseline += font.Spacing;
        }

        canvas.Restore();
    }
}
