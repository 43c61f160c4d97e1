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

    /// <summary>
    /// A copy whose shape pixels (those farther than 60 in RGB from <paramref name="background"/>) are mixed towards
    /// <paramref name="toward"/>, by <paramref name="amount"/> at the shape's left edge rising to <paramref name="amount"/>
    /// × 1.5 at its right: uneven shading, as a fine-tuned model draws a colour it was not pretrained on.
    /// </summary>
    public static SKBitmap Shade(SKBitmap source, SKColor background, SKColor toward, double amount)
    {
        var result = source.Copy(SKColorType.Rgba8888);
        for (var y = 0; y < result.Height; y++)
        {
            for (var x = 0; x < result.Width; x++)
            {
                var c = result.GetPixel(x, y);
                var far = Math.Pow(c.Red - background.Red, 2) + Math.Pow(c.Green - background.Green, 2) + Math.Pow(c.Blue - background.Blue, 2) > 60 * 60;
                if (far)
                {
                    var a = amount * (1 + (0.5 * x / (result.Width - 1)));
                    byte Mix(byte from, byte to) => (byte)Math.Round(from + (a * (to - from)));
                    result.SetPixel(x, y, new SKColor(Mix(c.Red, toward.Red), Mix(c.Green, toward.Green), Mix(c.Blue, toward.Blue)));
                }
            }
        }

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
