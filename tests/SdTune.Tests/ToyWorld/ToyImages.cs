using SkiaSharp;

namespace SdTune.Tests.ToyWorld;

/// <summary>Degrades pictures the way a small diffusion model's outputs are degraded: soft edges and grain.</summary>
internal static class ToyImages
{
    /// <summary>A copy blurred with Skia's Gaussian blur (independent of the evaluator's own blur).</summary>
    public static SKBitmap Blur(SKBitmap source, float sigma)
    {
        var result = new SKBitmap(new SKImageInfo(source.Width, source.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(result);
        using var filter = SKImageFilter.CreateBlur(sigma, sigma, SKShaderTileMode.Clamp);
        using var paint = new SKPaint { ImageFilter = filter };
        canvas.DrawBitmap(source, 0, 0, paint);
        canvas.Flush();
        return result;
    }

    /// <summary>A copy with additive Gaussian noise of the given standard deviation (in 0–255 units).</summary>
    public static SKBitmap AddNoise(SKBitmap source, double sigma, int seed)
    {
        var random = new Random(seed);
        var result = source.Copy(SKColorType.Rgba8888);
        var span = result.GetPixelSpan();
        for (var i = 0; i < span.Length; i++)
        {
            if (i % 4 == 3)
            {
                continue;
            }

            // Box–Muller.
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            var z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            span[i] = (byte)Math.Clamp(Math.Round(span[i] + (sigma * z)), 0, 255);
        }

        return result;
    }
}
