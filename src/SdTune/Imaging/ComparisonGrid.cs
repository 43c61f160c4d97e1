using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>
/// The picture of a comparison grid (prompt matrix, X/Y/Z plot): each panel a labelled grid (<see cref="ImageGrid.CreateLabelled(IReadOnlyList{SKBitmap}, IReadOnlyList{string}, IReadOnlyList{string}?, SKTypeface?, Action{string}?)"/>:
/// column labels above, row labels on the left), the panels side by side with a gap of one font size between them
/// and each panel's label above it, in the font size of the pictures' labels. Without a usable font the panels are
/// drawn without labels and <c>warn</c> is told once.
/// </summary>
public static class ComparisonGrid
{
    /// <summary>Composes <paramref name="cells"/> (panel by panel, row by row, left to right; all one size).</summary>
    /// <param name="cells">The pictures: <paramref name="columns"/> × rows per panel.</param>
    /// <param name="columns">Pictures per row.</param>
    /// <param name="rows">Rows per panel.</param>
    /// <param name="columnLabels">One label per column, or none.</param>
    /// <param name="rowLabels">One label per row, or none.</param>
    /// <param name="panelLabels">One label per panel, or none.</param>
    /// <param name="warn">Told when there is no font for the labels.</param>
    /// <exception cref="ArgumentException">The counts do not fit the cells, or the pictures differ in size.</exception>
    public static SKBitmap Create(
        IReadOnlyList<SKBitmap> cells,
        int columns,
        int rows,
        IReadOnlyList<string> columnLabels,
        IReadOnlyList<string> rowLabels,
        IReadOnlyList<string> panelLabels,
        Action<string>? warn = null) =>
        Create(cells, columns, rows, columnLabels, rowLabels, panelLabels, warn, GridFont.DefaultCandidates, askFontManager: true);

    internal static SKBitmap Create(
        IReadOnlyList<SKBitmap> cells,
        int columns,
        int rows,
        IReadOnlyList<string> columnLabels,
        IReadOnlyList<string> rowLabels,
        IReadOnlyList<string> panelLabels,
        Action<string>? warn,
        IEnumerable<string> fontCandidates,
        bool askFontManager)
    {
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(columnLabels);
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(panelLabels);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        var perPanel = columns * rows;
        if (cells.Count == 0 || cells.Count % perPanel != 0)
        {
            throw new ArgumentException($"{cells.Count} pictures do not fill panels of {columns} x {rows}.", nameof(cells));
        }

        var panelCount = cells.Count / perPanel;
        if ((columnLabels.Count != 0 && columnLabels.Count != columns) || (rowLabels.Count != 0 && rowLabels.Count != rows) || (panelLabels.Count != 0 && panelLabels.Count != panelCount))
        {
            throw new ArgumentException($"Labels for {columns} columns, {rows} rows and {panelCount} panels: got {columnLabels.Count}, {rowLabels.Count} and {panelLabels.Count}.");
        }

        using var typeface = GridFont.Locate(fontCandidates, askFontManager);
        var labelled = typeface is not null && GridFont.CanDraw(typeface);
        if (!labelled && (columnLabels.Count + rowLabels.Count + panelLabels.Count) > 0)
        {
            warn?.Invoke("No usable font for grid labels (tried DejaVu Sans, Liberation Sans, Arial); the grid is saved without labels.");
        }

        var panels = new List<SKBitmap>();
        try
        {
            for (var p = 0; p < panelCount; p++)
            {
                var pictures = cells.Skip(p * perPanel).Take(perPanel).ToList();
                panels.Add(!labelled || (columnLabels.Count == 0 && rowLabels.Count == 0)
                    ? ImageGrid.Create(pictures, columns)
                    : ImageGrid.CreateLabelled(pictures, columnLabels, rowLabels, typeface, null, fontCandidates, askFontManager, columns));
            }

            if (panelCount == 1 && panelLabels.Count == 0)
            {
                var only = panels[0];
                panels.Clear();
                return only;
            }

            return SideBySide(panels, labelled ? panelLabels : [], typeface, GridLabels.FontSizeFor(cells[0].Width, cells[0].Height));
        }
        finally
        {
            panels.ForEach(p => p.Dispose());
        }
    }

    /// <summary>The panels in a row, a gap of one font size between them, each label centred above its panel.</summary>
    private static SKBitmap SideBySide(List<SKBitmap> panels, IReadOnlyList<string> labels, SKTypeface? typeface, float fontSize)
    {
        var (panelWidth, panelHeight) = (panels[0].Width, panels[0].Height);
        var gap = (int)Math.Ceiling(fontSize);
        using var font = typeface is null ? null : new SKFont(typeface, fontSize);
        var padding = font is null ? 0 : GridLabels.Padding(font);
        var lines = font is null ? [] : labels.Select(l => GridLabels.Wrap(l, font, panelWidth - padding)).ToList();
        var header = lines.Count == 0 ? 0 : (int)Math.Ceiling((lines.Max(l => l.Count) * font!.Spacing) + (2 * padding));
        var grid = new SKBitmap(new SKImageInfo((panels.Count * panelWidth) + ((panels.Count - 1) * gap), header + panelHeight, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(grid);
        canvas.Clear(SKColors.White);
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        for (var p = 0; p < panels.Count; p++)
        {
            var left = p * (panelWidth + gap);
            canvas.DrawBitmap(panels[p], left, header);
            if (p < lines.Count)
            {
                var baseline = padding - font!.Metrics.Ascent;
                foreach (var line in lines[p])
                {
                    canvas.DrawText(line, left + (panelWidth / 2f), baseline, SKTextAlign.Center, font, paint);
                    baseline += font.Spacing;
                }
            }
        }

        canvas.Flush();
        return grid;
    }
}
