using SdTune.ToyWorld;
using SkiaSharp;

namespace SdTune.Tests.ToyWorld;

public class ToyWorldGeneratorTests
{
    private static byte[] Bytes(SKBitmap bitmap) => bitmap.GetPixelSpan().ToArray();

    [Fact]
    public void Scenes_and_pixels_are_a_pure_function_of_seed_and_index()
    {
        var a = new ToyWorldGenerator(32, seed: 5);
        var b = new ToyWorldGenerator(32, seed: 5);
        var c = new ToyWorldGenerator(32, seed: 6);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(a.Scene(i), b.Scene(i));
            using var x = a.Render(a.Scene(i));
            using var y = b.Render(b.Scene(i));
            Assert.Equal(Bytes(x), Bytes(y));
        }

        Assert.NotEqual(Enumerable.Range(0, 20).Select(i => a.Scene(i)), Enumerable.Range(0, 20).Select(i => c.Scene(i)));
    }

    [Fact]
    public void Renders_background_border_and_shape_colour_at_the_centre()
    {
        var generator = new ToyWorldGenerator(64);
        using var bitmap = generator.Render(new ToyScene(ToyShape.Square, ToyColor.Red, ToyColor.Blue, ToySize.Large, ToyPosition.Center));
        Assert.Equal(64, bitmap.Width);
        Assert.Equal(ToyPalette.ToSkia(ToyColor.Blue), bitmap.GetPixel(0, 0));
        Assert.Equal(ToyPalette.ToSkia(ToyColor.Red), bitmap.GetPixel(32, 32));

        // A large square is half the side: 32 pixels from 16 to 48.
        Assert.Equal(ToyPalette.ToSkia(ToyColor.Red), bitmap.GetPixel(17, 32));
        Assert.Equal(ToyPalette.ToSkia(ToyColor.Blue), bitmap.GetPixel(14, 32));
    }

    [Fact]
    public void Positions_put_the_shape_in_its_grid_cell()
    {
        var generator = new ToyWorldGenerator(32);
        using var bitmap = generator.Render(new ToyScene(ToyShape.Circle, ToyColor.White, ToyColor.Black, ToySize.Small, ToyPosition.TopLeft));
        Assert.Equal(ToyPalette.ToSkia(ToyColor.White), bitmap.GetPixel(6, 6));
        Assert.Equal(ToyPalette.ToSkia(ToyColor.Black), bitmap.GetPixel(16, 16));
        Assert.Equal(ToyPalette.ToSkia(ToyColor.Black), bitmap.GetPixel(26, 26));
    }

    [Fact]
    public void Stripes_alternate_colours_across_the_shape()
    {
        var generator = new ToyWorldGenerator(64);
        var scene = new ToyScene(ToyShape.Square, ToyColor.Red, ToyColor.Blue, ToySize.Large, ToyPosition.Center) { Pattern = ToyPattern.Striped, SecondColor = ToyColor.Yellow };
        using var bitmap = generator.Render(scene);

        // Five bands of 6.4 pixels from y = 16: red, yellow, red, yellow, red.
        int[] rows = [19, 25, 32, 38, 45];
        var expected = new[] { ToyColor.Red, ToyColor.Yellow, ToyColor.Red, ToyColor.Yellow, ToyColor.Red };
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(ToyPalette.ToSkia(expected[i]), bitmap.GetPixel(32, rows[i]));
        }
    }

    [Fact]
    public void Captions_have_several_phrasings()
    {
        var scene = new ToyScene(ToyShape.Star, ToyColor.Red, ToyColor.Blue, ToySize.Large, ToyPosition.TopLeft);
        Assert.Equal("a large red star on a blue background, top left", scene.ToCaption());
        Assert.Equal("a red star on blue", scene.ToCaption(ToyCaptionStyle.Short));
        Assert.Equal("a large red star on a blue background", scene.ToCaption(ToyCaptionStyle.NoPosition));
        Assert.Equal("red star, blue background, large, top left", scene.ToCaption(ToyCaptionStyle.Tags));
        Assert.Equal("an orange ring on white", new ToyScene(ToyShape.Ring, ToyColor.Orange, ToyColor.White, ToySize.Small, ToyPosition.Center).ToCaption(ToyCaptionStyle.Short));
        Assert.Equal(
            "a medium half red half yellow heart on a green background, bottom right",
            new ToyScene(ToyShape.Heart, ToyColor.Red, ToyColor.Green, ToySize.Medium, ToyPosition.BottomRight) { Pattern = ToyPattern.Halves, SecondColor = ToyColor.Yellow }.ToCaption());
        Assert.Equal(
            "a red and yellow striped star on blue",
            (scene with { Pattern = ToyPattern.Striped, SecondColor = ToyColor.Yellow }).ToCaption(ToyCaptionStyle.Short));

        var generator = new ToyWorldGenerator();
        var styles = Enumerable.Range(0, 600).Select(i => generator.CaptionStyle(i)).ToList();
        Assert.All(Enum.GetValues<ToyCaptionStyle>(), s => Assert.Contains(s, styles));
    }

    [Fact]
    public void Invalid_scenes_are_refused_with_a_reason()
    {
        var generator = new ToyWorldGenerator();
        var e = Assert.Throws<ArgumentException>(() => generator.Render(new ToyScene(ToyShape.Star, ToyColor.Red, ToyColor.Red, ToySize.Large, ToyPosition.Center)));
        Assert.Contains("background colour red", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => generator.Render(new ToyScene(ToyShape.Star, ToyColor.Red, ToyColor.Blue, ToySize.Large, ToyPosition.Center) { Pattern = ToyPattern.Dotted }));
        Assert.Throws<ArgumentException>(() => generator.Render(new ToyScene(ToyShape.Star, ToyColor.Red, ToyColor.Blue, ToySize.Large, ToyPosition.Center) { JitterX = 0.2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ToyWorldGenerator(8));
    }

    [Fact]
    public void Scenes_come_from_the_requested_part_of_the_split_and_cover_every_attribute()
    {
        var generator = new ToyWorldGenerator(32, seed: 3);
        var training = Enumerable.Range(0, 3000).Select(i => generator.Scene(i)).ToList();
        Assert.All(training, s => Assert.False(generator.Split.IsHeldOut(new ToyCombination(s.Shape, s.Color, s.Background))));
        Assert.All(training, s => Assert.NotEqual(s.Color, s.Background));
        Assert.Equal(Enum.GetValues<ToySize>().Length, training.Select(s => s.Size).Distinct().Count());
        Assert.Equal(Enum.GetValues<ToyPosition>().Length, training.Select(s => s.Position).Distinct().Count());
        Assert.All(training, s => Assert.InRange(Math.Abs(s.JitterX), 0, 0.03));

        var heldOut = Enumerable.Range(0, 200).Select(i => generator.Scene(i, heldOut: true)).ToList();
        Assert.All(heldOut, s => Assert.True(generator.Split.IsHeldOut(new ToyCombination(s.Shape, s.Color, s.Background))));
    }

    [Fact]
    public void Names_round_trip_and_accept_common_spellings()
    {
        foreach (var p in Enum.GetValues<ToyPosition>())
        {
            Assert.True(ToyNames.TryParse<ToyPosition>(ToyNames.Of(p), out var back));
            Assert.Equal(p, back);
        }

        Assert.True(ToyNames.TryParse<ToyPosition>("Top-Left", out var tl));
        Assert.Equal(ToyPosition.TopLeft, tl);
        Assert.True(ToyNames.TryParse<ToyPosition>("centre", out var c));
        Assert.Equal(ToyPosition.Center, c);
        Assert.False(ToyNames.TryParse<ToyShape>("hexagon", out _));
    }
}
