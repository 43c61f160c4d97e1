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
