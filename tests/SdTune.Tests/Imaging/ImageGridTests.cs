using SdTune.Imaging;
using SkiaSharp;

namespace SdTune.Tests.Imaging;

public class ImageGridTests
{
    private static readonly SKColor[] Colors =
    [
        new(255, 0, 0), new(0, 255, 0), new(0, 0, 255), new(255, 255, 0), new(0, 255, 255), new(255, 0, 255), new(90, 90, 90),
    ];

    private static List<SKBitmap> Tiles(int count) => Enumerable.Range(0, count).Select(i => TestImages.Solid(6, 4, Colors[i])).ToList();

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 2, 1)]
    [InlineData(3, 2, 2)]
    [InlineData(4, 2, 2)]
    [InlineData(5, 3, 2)]
    [InlineData(7, 3, 3)]
    public void Default_layout_has_round_sqrt_rows_like_a1111(int count, int columns, int rows)
    {
        var tiles = Tiles(count);
        using var grid = ImageGrid.Create(tiles);

        Assert.Equal((columns * 6, rows * 4), (grid.Width, grid.Height));
        for (var i = 0; i < columns * rows; i++)
        {
            var expected = i < count ? Colors[i] : SKColors.Black;
            Assert.Equal(expected, grid.GetPixel(((i % columns) * 6) + 3, ((i / columns) * 4) + 2));
        }

        tiles.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Columns_can_be_given()
    {
        var tiles = Tiles(5);
        using var grid = ImageGrid.Create(tiles, columns: 1);

        Assert.Equal((6, 20), (grid.Width, grid.Height));
        Assert.Equal(Colors[4], grid.GetPixel(0, 19));
        tiles.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Tiles_are_copied_exactly()
    {
        using var a = TestImages.Pattern(6, 4);
        using var b = TestImages.Solid(6, 4, SKColors.White);
        using var grid = ImageGrid.Create([b, a]);

        for (var y = 0; y < 4; y++)
        {
            for (var x = 0; x < 6; x++)
            {
                Assert.Equal(a.GetPixel(x, y), grid.GetPixel(6 + x, y));
            }
        }
    }

    [Fact]
    public void Mixed_sizes_are_refused()
    {
        using var a = TestImages.Solid(6, 4, SKColors.Red);
        using var b = TestImages.Solid(4, 6, SKColors.Red);
        var error = Assert.Throws<ArgumentException>(() => ImageGrid.Create([a, b]));
        Assert.Contains("image 1 is 4x6", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Labelled_grid_draws_text_in_margins_above_and_left()
    {
        var tiles = Enumerable.Range(0, 4).Select(i => TestImages.Solid(64, 64, Colors[i])).ToList();
        var warnings = new List<string>();

        using var grid = ImageGrid.CreateLabelled(tiles, ["before", "after"], ["seed 1", "seed 2"], warn: warnings.Add);

        Assert.Empty(warnings);
        Assert.True(grid.Width > 128 && grid.Height > 128, $"no margins: {grid.Width}x{grid.Height}");
        var left = grid.Width - 128;
        var top = grid.Height - 128;
        Assert.Equal(48, left);
        Assert.Equal(Colors[3], grid.GetPixel(left + 64 + 32, top + 64 + 32));
        Assert.True(CountDark(grid, new SKRectI(left, 0, grid.Width, top)) > 20, "no column label text");
        Assert.True(CountDark(grid, new SKRectI(0, top, left, grid.Height)) > 20, "no row label text");
        Assert.Equal(SKColors.White, grid.GetPixel(1, 1));
        tiles.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Without_a_font_the_grid_is_unlabelled_with_a_warning()
    {
        var tiles = Tiles(4);
        var warnings = new List<string>();

        using var grid = ImageGrid.CreateLabelled(tiles, ["a", "b"], ["c", "d"], typeface: null, warnings.Add, fontCandidates: [], askFontManager: false);

        Assert.Equal((12, 8), (grid.Width, grid.Height));
        Assert.Single(warnings);
        Assert.Contains("without labels", warnings[0], StringComparison.Ordinal);
        tiles.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Row_label_count_must_match_rows()
    {
        var tiles = Tiles(4);
        Assert.Throws<ArgumentException>(() => ImageGrid.CreateLabelled(tiles, ["a", "b"], ["only one"]));
        tiles.ForEach(t => t.Dispose());
    }

    /// <summary>Row labels of the concept benchmark's grids: prompts much wider than a 32-pixel picture.</summary>
    private static readonly string[] BenchmarkRows =
    [
        "a large sks star on a white background, center",
        "a small sks star on a blue background, top left",
        "a sks star on a purple background, bottom right",
    ];

    [Fact]
    public void Long_row_labels_at_32_pixels_never_cover_a_picture_and_stay_in_their_own_row()
    {
        var tiles = DistinctTiles(12, 32, 32);
        using var grid = ImageGrid.CreateLabelled(tiles, ["#1", "#2", "#3", "#4"], BenchmarkRows);

        var boxes = AssertPicturesIntact(grid, tiles);
        AssertLabelsApart(grid, boxes, rows: 3, columns: 4);
        tiles.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Labels_too_long_for_a_row_or_a_column_grow_it_instead_of_covering_pictures()
    {
        var tiles = DistinctTiles(4, 32, 32);
        var essay = string.Join(' ', Enumerable.Repeat("a very long row label that cannot fit in two lines of any column allowed,", 4));
        using var grid = ImageGrid.CreateLabelled(tiles, ["#1", "incomprehensibilities"], [essay, "short"]);

        var boxes = AssertPicturesIntact(grid, tiles);
        Assert.True(boxes[2].Top - boxes[0].Top > 32, "the first row did not grow for its long label");
        Assert.True(boxes[1].Left - boxes[0].Left > 32, "the second column did not grow for its long word");
        AssertLabelsApart(grid, boxes, rows: 2, columns: 2);
        tiles.ForEach(t => t.Dispose());
    }

    [Fact]
    public void The_label_column_is_as_wide_as_its_widest_measured_line_and_a_32_pixel_row_holds_a_benchmark_prompt()
    {
        using var face = GridFont.Locate(GridFont.DefaultCandidates, askFontManager: true);
        Assert.NotNull(face);
        using var font = new SKFont(face, GridLabels.FontSizeFor(32, 32));
        Assert.True(font.Size >= GridLabels.MinFontSize);

        var plan = GridLabels.Plan(font, 32, 32, ["#1", "#2", "#3", "#4"], BenchmarkRows);

        var padding = GridLabels.Padding(font);
        for (var r = 0; r < BenchmarkRows.Length; r++)
        {
            var lines = plan.RowLines[r];
            Assert.Equal(BenchmarkRows[r], string.Join(' ', lines));
            Assert.All(lines, l => Assert.True(font.MeasureText(l) + (2 * padding) <= plan.LabelColumnWidth, $"'{l}' is wider than the label column ({plan.LabelColumnWidth} px)"));
            Assert.True(lines.Count * font.Spacing <= plan.RowPitch, $"{lines.Count} lines do not fit in a row of {plan.RowPitch} px");
        }

        // The prompts wrap into the picture's height rather than growing the rows, in a column of moderate width.
        Assert.Equal((32, 32), (plan.RowPitch, plan.ColumnPitch));
        Assert.InRange(plan.LabelColumnWidth, 32, GridLabels.MaxRowLabelEms * font.Size);
        Assert.All(plan.ColumnLines, l => Assert.True(font.MeasureText(Assert.Single(l)) + padding <= plan.ColumnPitch));
    }

    /// <summary>Solid tiles, each of a colour no other tile, the white margin or black text has.</summary>
    private static List<SKBitmap> DistinctTiles(int count, int width, int height) =>
        Enumerable.Range(0, count).Select(i => TestImages.Solid(width, height, new SKColor((byte)(40 + (17 * i)), 220, (byte)(230 - (13 * i))))).ToList();

    /// <summary>
    /// Every tile's colour fills exactly one rectangle of the tile's size in <paramref name="grid"/> and nothing else:
    /// no label pixel fell on a picture. Returns each picture's rectangle.
    /// </summary>
    private static List<SKRectI> AssertPicturesIntact(SKBitmap grid, List<SKBitmap> tiles)
    {
        var pixels = grid.Pixels;
        var boxes = new List<SKRectI>();
        foreach (var tile in tiles)
        {
            var color = tile.GetPixel(0, 0);
            var (count, left, top, right, bottom) = (0, int.MaxValue, int.MaxValue, -1, -1);
            for (var i = 0; i < pixels.Length; i++)
            {
                if (pixels[i] == color)
                {
                    var (x, y) = (i % grid.Width, i / grid.Width);
                    (count, left, top, right, bottom) = (count + 1, Math.Min(left, x), Math.Min(top, y), Math.Max(right, x + 1), Math.Max(bottom, y + 1));
                }
            }

            var box = new SKRectI(left, top, right, bottom);
            Assert.True(count == tile.Width * tile.Height && box.Width == tile.Width && box.Height == tile.Height, $"picture {boxes.Count} is not intact: {count} of {tile.Width * tile.Height} pixels in {box}");
            boxes.Add(box);
        }

        return boxes;
    }

    /// <summary>
    /// Each row's label has ink left of the pictures, none on the label column's edges (nothing cut off) and none where
    /// one row meets the next; each column label has ink above its picture, none right above the pictures.
    /// </summary>
    private static void AssertLabelsApart(SKBitmap grid, List<SKRectI> boxes, int rows, int columns)
    {
        var left = boxes.Min(b => b.Left);
        var top = boxes.Min(b => b.Top);
        for (var r = 0; r < rows; r++)
        {
            var centre = boxes[r * columns].MidY;
            var from = r == 0 ? top : (boxes[(r - 1) * columns].MidY + centre) / 2;
            var to = r == rows - 1 ? grid.Height : (boxes[(r + 1) * columns].MidY + centre) / 2;
            Assert.True(CountDark(grid, new SKRectI(1, from, left - 1, to)) > 10, $"row {r}: no label ink");
        }

        for (var r = 0; r + 1 < rows; r++)
        {
            // The rows are equally tall, so the boundary between two rows lies midway between their pictures' centres.
            var boundary = (boxes[r * columns].MidY + boxes[(r + 1) * columns].MidY) / 2;
            Assert.True(CountDark(grid, new SKRectI(0, boundary - 1, left, boundary + 2)) == 0, $"the labels of rows {r} and {r + 1} meet at y = {boundary}");
        }

        Assert.Equal(0, CountDark(grid, new SKRectI(0, top, 1, grid.Height)));
        Assert.Equal(0, CountDark(grid, new SKRectI(left - 1, top, left, grid.Height)));
        for (var c = 0; c < columns; c++)
        {
            var box = boxes[c];
            Assert.True(CountDark(grid, new SKRectI(box.Left, 0, box.Right, top)) > 5, $"column {c}: no label ink");
        }

        Assert.Equal(0, CountDark(grid, new SKRectI(left, top - 1, grid.Width, top)));
    }

    private static int CountDark(SKBitmap bitmap, SKRectI area)
    {
        var count = 0;
        for (var y = area.Top; y < area.Bottom; y++)
        {
            for (var x = area.Left; x < area.Right; x++)
            {
                var p = bitmap.GetPixel(x, y);
                if (p.Red + p.Green + p.Blue < 200)
                {
                    count++;
                }
            }
        }

        return count;
    }
}
