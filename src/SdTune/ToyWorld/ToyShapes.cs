using SkiaSharp;

namespace SdTune.ToyWorld;

/// <summary>
/// The outline of every <see cref="ToyShape"/> as a Skia path whose bounding box is centred on the origin with its
/// larger side 1. To add a shape, add an enum value and its outline here; the evaluator learns it from renderings.
/// </summary>
internal static class ToyShapes
{
    /// <summary>A new path for the shape, normalised to a bounding box centred on (0, 0) with larger side 1.</summary>
    public static SKPath UnitPath(ToyShape shape)
    {
        var path = RawPath(shape);
        var bounds = path.Bounds;
        var scale = 1f / Math.Max(bounds.Width, bounds.Height);
        var matrix = SKMatrix.CreateTranslation(-bounds.MidX, -bounds.MidY).PostConcat(SKMatrix.CreateScale(scale, scale));
        path.Transform(matrix);
        return path;
    }

    private static SKPath RawPath(ToyShape shape)
    {
        var path = new SKPath();
        switch (shape)
        {
            case ToyShape.Circle:
                path.AddCircle(0, 0, 0.5f);
                break;
            case ToyShape.Square:
                path.AddRect(new SKRect(-0.5f, -0.5f, 0.5f, 0.5f));
                break;
            case ToyShape.Triangle:
                path.AddPoly([new SKPoint(0, -0.5f), new SKPoint(0.5f, 0.366f), new SKPoint(-0.5f, 0.366f)]);
                break;
            case ToyShape.Star:
                path.AddPoly(Star(5, 0.5f, 0.22f));
                break;
            case ToyShape.Heart:
                path.AddPoly(Heart(96));
                break;
            case ToyShape.Cross:
                const float a = 0.17f;
                path.AddPoly(
                [
                    new(-a, -0.5f), new(a, -0.5f), new(a, -a), new(0.5f, -a), new(0.5f, a), new(a, a),
                    new(a, 0.5f), new(-a, 0.5f), new(-a, a), new(-0.5f, a), new(-0.5f, -a), new(-a, -a),
                ]);
                break;
            case ToyShape.Ring:
                path.FillType = SKPathFillType.EvenOdd;
                path.AddCircle(0, 0, 0.5f);
                path.AddCircle(0, 0, 0.27f);
                break;
            case ToyShape.Diamond:
                path.AddPoly([new SKPoint(0, -0.5f), new SKPoint(0.38f, 0), new SKPoint(0, 0.5f), new SKPoint(-0.38f, 0)]);
                break;
            default:
                path.Dispose();
                throw new ArgumentOutOfRangeException(nameof(shape), shape, "Unknown shape.");
        }

        return path;
    }

    private static SKPoint[] Star(int points, float outer, float inner)
    {
        var result = new SKPoint[points * 2];
        for (var i = 0; i < result.Length; i++)
        {
            var radius = i % 2 == 0 ? outer : inner;
            var angle = (Math.PI * i / points) - (Math.PI / 2);
            result[i] = new SKPoint((float)(radius * Math.Cos(angle)), (float)(radius * Math.Sin(angle)));
        }

        return result;
    }

    // The classic parametric heart, y flipped so the point is at the bottom.
    private static SKPoint[] Heart(int samples)
    {
        var result = new SKPoint[samples];
        for (var i = 0; i < samples; i++)
        {
            var t = 2 * Math.PI * i / samples;
            var x = 16 * Math.Pow(Math.Sin(t), 3);
            var y = (13 * Math.Cos(t)) - (5 * Math.Cos(2 * t)) - (2 * Math.Cos(3 * t)) - Math.Cos(4 * t);
            result[i] = new SKPoint((float)x, (float)-y);
        }

        return result;
    }
}
