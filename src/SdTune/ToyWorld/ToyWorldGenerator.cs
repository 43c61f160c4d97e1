using SdTune.Training.Data;
using SkiaSharp;

namespace SdTune.ToyWorld;

/// <summary>
/// Draws the toy world: seeded random scenes (<see cref="Scene"/>) and their antialiased RGB pictures
/// (<see cref="Render"/>). Everything is a pure function of the seed and the index, so the same world comes out on
/// every machine and run.
/// </summary>
public sealed class ToyWorldGenerator
{
    private const long SceneStream = 1;
    private const long JitterStream = 2;
    private const long CaptionStream = 3;
    private const long PatternStream = 4;

    /// <summary>Creates a generator.</summary>
    /// <param name="imageSize">The side of the square images, 16 to 1024 pixels (32 by default).</param>
    /// <param name="seed">The seed of scenes and jitter.</param>
    /// <param name="split">The train / held-out split; <see cref="ToyWorldSplit.Default"/> when null.</param>
    public ToyWorldGenerator(int imageSize = 32, long seed = 0, ToyWorldSplit? split = null)
    {
        if (imageSize is < 16 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "The toy world's image side must be 16 to 1024 pixels.");
        }

        ImageSize = imageSize;
        Seed = seed;
        Split = split ?? ToyWorldSplit.Default;
    }

    /// <summary>The side of the square images in pixels.</summary>
    public int ImageSize { get; }

    /// <summary>The seed of scenes and jitter.</summary>
    public long Seed { get; }

    /// <summary>The train / held-out split scenes are drawn from.</summary>
    public ToyWorldSplit Split { get; }

    /// <summary>
    /// The scene number <paramref name="index"/>: a (shape, colour, background) triple from the chosen part of the
    /// split, with a random size, position and jitter.
    /// </summary>
    /// <param name="index">Which scene (any integer).</param>
    /// <param name="heldOut">Draw from the held-out triples instead of the training ones.</param>
    public ToyScene Scene(long index, bool heldOut = false)
    {
        var random = SeededRandom.For(Seed, SceneStream, index, heldOut ? 1 : 0);
        var triples = heldOut ? Split.HeldOut : Split.Training;
        if (triples.Count == 0)
        {
            throw new InvalidOperationException($"The split (seed {Split.Seed}) has no {(heldOut ? "held-out" : "training")} combinations.");
        }

        var c = random.Choice(triples);
        var size = (ToySize)random.NextInt(3);
        var position = (ToyPosition)random.NextInt(9);
        return Jitter(new ToyScene(c.Shape, c.Color, c.Background, size, position), index);
    }

    /// <summary>
    /// The pretraining picture number <paramref name="index"/>: <see cref="Scene"/>, or with probability
    /// <paramref name="patternedShare"/> the same scene filled with a pattern its shape shows in pretraining
    /// (<see cref="ToyPatternSplit.Training"/>) in a second colour that differs from the shape's and the background's.
    /// </summary>
    /// <param name="index">Which picture.</param>
    /// <param name="patternedShare">The fraction of patterned pictures, in [0, 1].</param>
    public ToyScene PretrainingScene(long index, double patternedShare)
    {
        var scene = Scene(index);
        var random = SeededRandom.For(Seed, PatternStream, index);
        return random.NextDouble() < patternedShare ? Patterned(scene, ToyPatternSplit.Training(scene.Shape), random) : scene;
    }

    /// <summary>
    /// A training-split scene filled with the one pattern its shape never shows in pretraining
    /// (<see cref="ToyPatternSplit.HeldOut"/>): whether the model composes a known pattern onto a known shape.
    /// </summary>
    /// <param name="index">Which scene.</param>
    public ToyScene HeldOutPatternScene(long index)
    {
        var scene = Scene(index);
        return Patterned(scene, [ToyPatternSplit.HeldOut(scene.Shape)], SeededRandom.For(Seed, PatternStream, index, 1));
    }

    /// <summary>
    /// <paramref name="scene"/> filled with one of <paramref name="patterns"/> in a second colour that differs from the
    /// shape's and the background's, both drawn from <paramref name="random"/> (pattern first).
    /// </summary>
    internal static ToyScene Patterned(ToyScene scene, IReadOnlyList<ToyPattern> patterns, SeededRandom random)
    {
        var pattern = random.Choice(patterns);
        var seconds = Enum.GetValues<ToyColor>().Where(c => c != scene.Color && c != scene.Background).ToArray();
        return scene with { Pattern = pattern, SecondColor = random.Choice(seconds) };
    }

    /// <summary>The scene with a seeded jitter of its centre (a fresh draw for each index).</summary>
    /// <param name="scene">The scene.</param>
    /// <param name="index">Which draw.</param>
    public ToyScene Jitter(ToyScene scene, long index)
    {
        ArgumentNullException.ThrowIfNull(scene);
        var random = SeededRandom.For(Seed, JitterStream, index);
        return scene with
        {
            JitterX = ((random.NextDouble() * 2) - 1) * ToyLayout.MaxJitter,
            JitterY = ((random.NextDouble() * 2) - 1) * ToyLayout.MaxJitter,
        };
    }

    /// <summary>A seeded caption phrasing for picture <paramref name="index"/>: the full caption half the time, the others equally often.</summary>
    /// <param name="index">Which picture.</param>
    public ToyCaptionStyle CaptionStyle(long index)
    {
        var r = SeededRandom.For(Seed, CaptionStream, index).NextInt(6);
        return r switch
        {
            < 3 => ToyCaptionStyle.Full,
            3 => ToyCaptionStyle.Short,
            4 => ToyCaptionStyle.NoPosition,
            _ => ToyCaptionStyle.Tags,
        };
    }

    /// <summary>Draws a scene as an opaque RGBA bitmap of <see cref="ImageSize"/> pixels square (the caller disposes it).</summary>
    /// <param name="scene">The scene.</param>
    /// <exception cref="ArgumentException">The scene is not valid (see <see cref="ToyScene.Validate"/>).</exception>
    public SKBitmap Render(ToyScene scene)
    {
        ArgumentNullException.ThrowIfNull(scene);
        scene.Validate();
        var bitmap = new SKBitmap(new SKImageInfo(ImageSize, ImageSize, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(ToyPalette.ToSkia(scene.Background));
        Place(canvas, scene);
        using var path = ToyShapes.UnitPath(scene.Shape);
        using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill, Color = ToyPalette.ToSkia(scene.Color) };
        canvas.DrawPath(path, paint);
        if (scene.SecondColor is { } second)
        {
            canvas.Save();
            canvas.ClipPath(path, SKClipOperation.Intersect, antialias: true);
            paint.Color = ToyPalette.ToSkia(second);
            var box = path.Bounds;
            var (rects, dots) = ToyPatterns.Regions(scene.Pattern);
            foreach (var (l, t, r, b) in rects)
            {
                canvas.DrawRect(
                    SKRect.Create(box.Left + (float)(l * box.Width), box.Top + (float)(t * box.Height), (float)((r - l) * box.Width), (float)((b - t) * box.Height)),
                    paint);
            }

            foreach (var (x, y, radius) in dots)
            {
                canvas.DrawOval(box.Left + (float)(x * box.Width), box.Top + (float)(y * box.Height), (float)(radius * box.Width), (float)(radius * box.Height), paint);
            }

            canvas.Restore();
        }

        canvas.Flush();
        return bitmap;
    }

    /// <summary>
    /// Draws a scene's condition image (the caller disposes it): the shape's silhouette or outline, white on black, at
    /// exactly the place, size and jitter <see cref="Render"/> draws the shape; colours and pattern are not shown.
    /// </summary>
    /// <param name="scene">The scene.</param>
    /// <param name="map">Silhouette or outline.</param>
    /// <exception cref="ArgumentException">The scene is not valid (see <see cref="ToyScene.Validate"/>).</exception>
    public SKBitmap RenderCondition(ToyScene scene, ToyConditionMap map = ToyConditionMap.Mask)
    {
        ArgumentNullException.ThrowIfNull(scene);
        scene.Validate();
        var bitmap = new SKBitmap(new SKImageInfo(ImageSize, ImageSize, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.Black);
        var scale = Place(canvas, scene);
        using var path = ToyShapes.UnitPath(scene.Shape);
        using var paint = new SKPaint
        {
            IsAntialias = true,
            Color = SKColors.White,
            Style = map switch
            {
                ToyConditionMap.Mask => SKPaintStyle.Fill,
                ToyConditionMap.Edges => SKPaintStyle.Stroke,
                _ => throw new ArgumentOutOfRangeException(nameof(map), map, "Unknown condition map."),
            },
            // An outline about 1/24 of the image side wide (1.3 pixels at 32), whatever the shape's size.
            StrokeWidth = ImageSize / 24f / scale,
        };
        canvas.DrawPath(path, paint);
        canvas.Flush();
        return bitmap;
    }

    /// <summary>Moves and scales <paramref name="canvas"/> so the unit shape path lands where the scene puts the shape; returns the scale.</summary>
    private float Place(SKCanvas canvas, ToyScene scene)
    {
        var (column, row) = ToyLayout.Cell(scene.Position);
        var scale = (float)(ToyLayout.Extent(scene.Size) * ImageSize);
        canvas.Translate(
            (float)((ToyLayout.Centre(column, scene.Size) + scene.JitterX) * ImageSize),
            (float)((ToyLayout.Centre(row, scene.Size) + scene.JitterY) * ImageSize));
        canvas.Scale(scale);
        return scale;
    }
}
