using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>
/// Resizes RGB bitmaps with a separable convolution that widens the filter by the shrink factor when downscaling,
/// the way PIL's <c>Image.resize</c> does, so shrinking averages every source pixel instead of aliasing. (Skia's
/// samplers have no Lanczos and sample without widening the kernel.) Results are opaque RGBA bitmaps.
/// </summary>
public static class ImageResize
{
    /// <summary>Resizes to exactly <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static SKBitmap Resize(SKBitmap bitmap, int width, int height, ResizeFilter filter = ResizeFilter.Lanczos)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var rgba = BitmapPixels.ReadOpaqueRgba(bitmap);
        var inWidth = bitmap.Width;
        var inHeight = bitmap.Height;

        // Horizontal pass into floats (3 channels), then vertical pass to bytes.
        var horizontal = Weights.For(inWidth, width, filter);
        var rows = new float[inHeight * width * 3];
        for (var y = 0; y < inHeight; y++)
        {
            for (var x = 0; x < width; x++)
            {
                float r = 0, g = 0, b = 0;
                var first = horizontal.First[x];
                var taps = horizontal.Taps(x);
                for (var k = 0; k < taps.Length; k++)
                {
                    var source = 4 * ((y * inWidth) + first + k);
                    r += taps[k] * rgba[source];
                    g += taps[k] * rgba[source + 1];
                    b += taps[k] * rgba[source + 2];
                }

                var target = 3 * ((y * width) + x);
                rows[target] = r;
                rows[target + 1] = g;
                rows[target + 2] = b;
            }
        }

        var vertical = Weights.For(inHeight, height, filter);
        var output = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
        {
            var first = vertical.First[y];
            var taps = vertical.Taps(y);
            for (var x = 0; x < width; x++)
            {
                float r = 0, g = 0, b = 0;
                for (var k = 0; k < taps.Length; k++)
                {
                    var source = 3 * (((first + k) * width) + x);
                    r += taps[k] * rows[source];
                    g += taps[k] * rows[source + 1];
                    b += taps[k] * rows[source + 2];
                }

                var target = 4 * ((y * width) + x);
                output[target] = ToByte(r);
                output[target + 1] = ToByte(g);
                output[target + 2] = ToByte(b);
                output[target + 3] = 255;
            }
        }

        return BitmapPixels.CreateOpaque(width, height, output);
    }

    /// <summary>
    /// Scales so the image covers <paramref name="width"/> x <paramref name="height"/> (the shorter side relative to
    /// the target fits exactly), then crops the centre: the usual training-image preparation.
    /// </summary>
    public static SKBitmap ResizeToFill(SKBitmap bitmap, int width, int height, ResizeFilter filter = ResizeFilter.Lanczos)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var scale = Math.Max((double)width / bitmap.Width, (double)height / bitmap.Height);
        var scaledWidth = Math.Max(width, (int)Math.Round(bitmap.Width * scale));
        var scaledHeight = Math.Max(height, (int)Math.Round(bitmap.Height * scale));
        if (scaledWidth == bitmap.Width && scaledHeight == bitmap.Height)
        {
            return ImageCrop.CenterCrop(bitmap, width, height);
        }

        using var scaled = Resize(bitmap, scaledWidth, scaledHeight, filter);
        return ImageCrop.CenterCrop(scaled, width, height);
    }

    private static byte ToByte(float value) => (byte)Math.Clamp(MathF.Round(value, MidpointRounding.ToEven), 0f, 255f);

    /// <summary>Per output pixel: the first contributing source pixel and the normalised weights that follow it.</summary>
    private sealed class Weights
    {
        private readonly float[] values;
        private readonly int[] counts;
        private readonly int stride;

        private Weights(int outSize, int stride)
        {
            this.stride = stride;
            values = new float[outSize * stride];
            counts = new int[outSize];
            First = new int[outSize];
        }

        public int[] First { get; }

        public ReadOnlySpan<float> Taps(int i) => values.AsSpan(i * stride, counts[i]);

        public static Weights For(int inSize, int outSize, ResizeFilter filter)
        {
            var scale = (double)inSize / outSize;
            var widen = Math.Max(scale, 1.0);
            var support = Support(filter) * widen;
            var stride = (int)Math.Ceiling(support) * 2 + 1;
            var weights = new Weights(outSize, stride);
            for (var i = 0; i < outSize; i++)
            {
                // Pixel centres: output i sits at (i + 0.5) * scale in source coordinates.
                var center = (i + 0.5) * scale;
                var first = Math.Max(0, (int)Math.Floor(center - support + 0.5));
                var last = Math.Min(inSize, (int)Math.Floor(center + support + 0.5));
                var span = weights.values.AsSpan(i * stride, stride);
                double sum = 0;
                var count = 0;
                for (var j = first; j < last && count < stride; j++, count++)
                {
                    var w = Kernel(filter, (j + 0.5 - center) / widen);
                    span[count] = (float)w;
                    sum += w;
                }

                if (sum != 0)
                {
                    for (var k = 0; k < count; k++)
                    {
                        span[k] = (float)(span[k] / sum);
                    }
                }

                weights.First[i] = first;
                weights.counts[i] = count;
            }

            return weights;
        }

        private static double Support(ResizeFilter filter) => filter switch
        {
            ResizeFilter.Lanczos => 3.0,
            ResizeFilter.Mitchell or ResizeFilter.Bicubic => 2.0,
            ResizeFilter.Bilinear => 1.0,
            _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown resize filter."),
        };

        private static double Kernel(ResizeFilter filter, double x)
        {
            x = Math.Abs(x);
            switch (filter)
            {
                case ResizeFilter.Bilinear:
                    return x < 1.0 ? 1.0 - x : 0.0;
                case ResizeFilter.Bicubic:
                    const double a = -0.5;
                    if (x < 1.0)
                    {
                        return (((a + 2.0) * x) - (a + 3.0)) * x * x + 1.0;
                    }

                    return x < 2.0 ? (((((a * x) - (5.0 * a)) * x) + (8.0 * a)) * x) - (4.0 * a) : 0.0;
                case ResizeFilter.Mitchell:
                    const double b = 1.0 / 3.0, c = 1.0 / 3.0;
                    if (x < 1.0)
                    {
                        return (((12 - (9 * b) - (6 * c)) * x * x * x) + ((-18 + (12 * b) + (6 * c)) * x * x) + (6 - (2 * b))) / 6.0;
                    }

                    return x < 2.0
                        ? ((((-b - (6 * c)) * x * x * x) + (((6 * b) + (30 * c)) * x * x) + (((-12 * b) - (48 * c)) * x) + ((8 * b) + (24 * c))) / 6.0)
                        : 0.0;
                default:
                    return x < 3.0 ? Sinc(x) * Sinc(x / 3.0) : 0.0;
            }
        }

        private static double Sinc(double x)
        {
            if (x == 0.0)
            {
                return 1.0;
            }

            x *= Math.PI;
            return Math.Sin(x) / x;
        }
    }
}
