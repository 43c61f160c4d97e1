using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>
/// Where a labelled grid's text goes, from the labels measured in its font: the row-label column is as wide as its
/// longest line (long labels wrap so that they fit in a row's height where a column of at most
/// <see cref="MaxRowLabelEms"/> ems allows it; the rows grow where it does not), the column labels wrap to their column,
/// and a column grows where one word is wider than it. No text is ever drawn over a picture.
/// </summary>
/// <param name="FontSize">The font size in pixels.</param>
/// <param name="LabelColumnWidth">The width of the row-label column on the left (0 without row labels).</param>
/// <param name="HeaderHeight">The height of the column-label band on top (0 without column labels).</param>
/// <param name="ColumnPitch">The width of a column: the picture width, or more where a column label needs it.</param>
/// <param name="RowPitch">The height of a row: the picture height, or more where a row label needs it.</param>
/// <param name="ColumnLines">Each column label's lines.</param>
/// <param name="RowLines">Each row label's lines.</param>
internal sealed record GridLabels(
    float FontSize,
    int LabelColumnWidth,
    int HeaderHeight,
    int ColumnPitch,
    int RowPitch,
    IReadOnlyList<IReadOnlyList<string>> ColumnLines,
    IReadOnlyList<IReadOnlyList<string>> RowLines)
{
    /// <summary>
    /// The smallest font size in pixels: two lines of it (with a gap) fit in a 32-pixel row, the toy model's picture
    /// size. Larger pictures get A1111's size, (width + height) / 25.
    /// </summary>
    public const float MinFontSize = 11;

    /// <summary>How wide, in ems, the row-label column may grow to keep every label within a picture's height.</summary>
    public const float MaxRowLabelEms = 24;

    /// <summary>The font size for pictures of <paramref name="cellWidth"/> x <paramref name="cellHeight"/>.</summary>
    public static float FontSizeFor(int cellWidth, int cellHeight) => Math.Max(MinFontSize, (cellWidth + cellHeight) / 25f);

    /// <summary>
    /// The padding around text: half the font size (a quarter on either side of a column label, above and below the
    /// column labels, and between the rows' labels; a half on either side of a row label).
    /// </summary>
    public static float Padding(SKFont font) => font.Size / 2;

    /// <summary>Lays out <paramref name="columnLabels"/> and <paramref name="rowLabels"/> (either may be empty) for pictures of the given size.</summary>
    public static GridLabels Plan(SKFont font, int cellWidth, int cellHeight, IReadOnlyList<string> columnLabels, IReadOnlyList<string> rowLabels)
    {
        var padding = Padding(font);
        var lineHeight = font.Spacing;

        // Columns: the labels wrap to the picture width; a word wider than that widens the columns.
        var columnText = Math.Max(cellWidth - padding, WidestWord(columnLabels, font));
        var columnLines = columnLabels.Select(l => Wrap(l, font, columnText)).ToList();
        var columnPitch = Math.Max(cellWidth, (int)Math.Ceiling(columnText + padding));
        var headerHeight = columnLines.Count > 0 ? (int)Math.Ceiling((columnLines.Max(l => l.Count) * lineHeight) + (2 * padding)) : 0;

        if (rowLabels.Count == 0)
        {
            return new GridLabels(font.Size, 0, headerHeight, columnPitch, cellHeight, columnLines, []);
        }

        // Rows: as many lines as a picture's height holds with a gap to the next row, in the narrowest column that
        // holds every label in that many lines (at least A1111's three quarters of a picture, at most MaxRowLabelEms
        // unless one word is wider); rows grow when the widest column allowed still needs more lines.
        var linesPerRow = Math.Max(1, (int)Math.Floor((cellHeight - padding) / lineHeight));
        var narrowest = Math.Max((cellWidth * 3 / 4f) - (2 * padding), 1);
        var rowText = FitWidth(rowLabels, font, linesPerRow, narrowest, Math.Max(narrowest, MaxRowLabelEms * font.Size));
        var rowLines = rowLabels.Select(l => Wrap(l, font, rowText)).ToList();
        var widestLine = rowLines.SelectMany(l => l).Select(l => font.MeasureText(l)).DefaultIfEmpty(0).Max();
        var labelColumnWidth = (int)Math.Ceiling(Math.Max(rowText, widestLine) + (2 * padding));
        var rowPitch = Math.Max(cellHeight, (int)Math.Ceiling((rowLines.Max(l => l.Count) * lineHeight) + padding));
        return new GridLabels(font.Size, labelColumnWidth, headerHeight, columnPitch, rowPitch, columnLines, rowLines);
    }

    /// <summary>
    /// The narrowest text width from <paramref name="min"/> to <paramref name="max"/> at which every label wraps into
    /// at most <paramref name="maxLines"/> lines; <paramref name="max"/> when none does. Never narrower than the widest word.
    /// </summary>
    private static float FitWidth(IReadOnlyList<string> labels, SKFont font, int maxLines, float min, float max)
    {
        var narrowest = Math.Max(min, WidestWord(labels, font));
        if (MostLines(labels, font, narrowest) <= maxLines)
        {
            return narrowest;
        }

        var low = (int)Math.Ceiling(narrowest);
        var high = (int)Math.Ceiling(Math.Max(max, narrowest));
        if (MostLines(labels, font, high) > maxLines)
        {
            return high;
        }

        // Greedy wrapping needs no more lines at a larger width, so the narrowest width that fits is found by halving.
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (MostLines(labels, font, middle) <= maxLines)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return low;
    }

    private static int MostLines(IReadOnlyList<string> labels, SKFont font, float width) =>
        labels.Select(l => Wrap(l, font, width).Count).DefaultIfEmpty(0).Max();

    private static float WidestWord(IReadOnlyList<string> labels, SKFont font) =>
        labels.SelectMany(Words).Select(w => font.MeasureText(w)).DefaultIfEmpty(0).Max();

    private static IEnumerable<string> Words(string text) =>
        text.Split('\n').SelectMany(p => p.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Greedy word wrap to <paramref name="width"/>; a single word wider than that gets its own line.</summary>
    public static List<string> Wrap(string text, SKFont font, float width)
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
