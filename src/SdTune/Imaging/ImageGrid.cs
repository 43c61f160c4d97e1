using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>
/// Tiles same-sized images into one grid image, like A1111's <c>image_grid</c>: row-major order, no gaps, unused
/// cells black. By default there are <c>round(sqrt(n))</c> rows (A1111's default) and as many columns as needed;
/// with <c>columns</c> given, as many rows as needed. The labelled variant adds captions above the columns and to
/// the left of the rows (prompt matrices, before/after comparisons), in the style of A1111's grid annotations.
/// </summary>
public static class ImageGrid
{
    /// <summary>A grid of <paramref name="images"/>; all must have the size of the first.</summary>
    public static SKBitmap Create(IReadOnlyList<SKBitmap> images, int? columns = null)
    {
        var (cols, rows) = Layout(images, columns);
        return Compose(images, cols, rows, 0, 0);
    }

    /// <summary>
    /// A grid with captions: <paramref name="columnLabels"/> (one per column, which also fixes the column count
    /// when not empty) above the grid and <paramref name="rowLabels"/> (one per row, or none) on its left. Text is
    /// black on white, wrapped to the cell width. Without a usable font (none given and none of DejaVu Sans,
    /// Liberation Sans, Arial found) the grid is returned unlabelled and <paramref name="warn"/> is told why.
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
        bool askFontManager)
    {
        ArgumentNullException.ThrowIfNull(columnLabels);
        ArgumentNullException.ThrowIfNull(rowLabels);
        var (cols, rows) = Layout(images, columnLabels.Count > 0 ? columnLabels.Count : null);
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
                return Compose(images, cols, rows, 0, 0);
            }

            var cellWidth = images[0].Width;
            var cellHeight = images[0].Height;

            // A1111's proportions: font size from the cell size, row labels get three quarters of a cell width.
            using var font = new SKFont(face, Math.Max(8, (cellWidth + cellHeight) / 25f));
            var lineHeight = font.Spacing;
            var spacing = font.Size / 2;
            var padLeft = rowLabels.Count > 0 ? cellWidth * 3 / 4 : 0;
            var columnLines = columnLabels.Select(l => Wrap(l, font, cellWidth - spacing)).ToList();
            var padTop = columnLines.Count > 0 ? (int)Math.Ceiling((columnLines.Max(l => l.Count) * lineHeight) + (2 * spacing)) : 0;

            var grid = Compose(images, cols, rows, padLeft, padTop);
            using var canvas = new SKCanvas(grid);
            using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            for (var c = 0; c < columnLines.Count; c++)
            {
                var lines = columnLines[c];
                var top = (padTop - (lines.Count * lineHeight)) / 2;
                DrawLines(canvas, lines, padLeft + (c * cellWidth) + (cellWidth / 2f), top, font, paint);
            }

            for (var r = 0; r < rowLabels.Count; r++)
            {
                var lines = Wrap(rowLabels[r], font, padLeft - spacing);
                var top = padTop + (r * cellHeight) + ((cellHeight - (lines.Count * lineHeight)) / 2);
                DrawLines(canvas, lines, padLeft / 2f, top, font, paint);
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

    /// <summary>The grid bitmap with the cells pasted at an offset; the margin is white, empty cells black.</summary>
    private static SKBitmap Compose(IReadOnlyList<SKBitmap> images, int cols, int rows, int padLeft, int padTop)
    {
        var cellWidth = images[0].Width;
        var cellHeight = images[0].Height;
        var width = padLeft + (cols * cellWidth);
        var height = padTop + (rows * cellHeight);
        var pixels = new byte[width * height * 4];
        pixels.AsSpan().Fill(255);
        var black = MemoryMarshalHelpers.AsUInts(pixels.AsSpan());
        for (var y = padTop; y < height; y++)
        {
            black.Slice((y * width) + padLeft, cols * cellWidth).Fill(BitConverter.IsLittleEndian ? 0xFF000000u : 0x000000FFu);
        }

        for (var i = 0; i < images.Count; i++)
        {
            var cell = BitmapPixels.ReadOpaqueRgba(images[i]);
            var x0 = padLeft + ((i % cols) * cellWidth);
            var y0 = padTop + ((i / cols) * cellHeight);
            for (var y = 0; y < cellHeight; y++)
            {
                cell.AsSpan(y * cellWidth * 4, cellWidth * 4).CopyTo(pixels.AsSpan((((y0 + y) * width) + x0) * 4));
            }
        }

        return BitmapPixels.CreateOpaque(width, height, pixels);
    }

    private static void DrawLines(SKCanvas canvas, IReadOnlyList<string> lines, float centerX, float top, SKFont font, SKPaint paint)
    {
        var baseline = top - font.Metrics.Ascent;
        foreach (var line in lines)
        {
            canvas.DrawText(line, centerX, baseline, SKTextAlign.Center, font, paint);
            baseline += font.Spacing;
        }
    }

    /// <summary>Greedy word wrap to <paramref name="width"/>; a single word wider than that gets its own line.</summary>
    private static List<string> Wrap(string text, SKFont font, float width)
    {
        var lines = new List<string>();
        foreach (var paragraph in text.Split('\n'))
        {
            var current = string.Empty;
            foreach (var word in paragraph.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = current.Length == 0 ? word : current + " " + word;
                if (current.Length > 0 && font.MeasureText(candidate) > width)
                {
                    lines.Add(current);
                    current = word;
                }
                else
                {
                    current = candidate;
                }
            }

            lines.Add(current);
        }

        return lines;
    }
}
