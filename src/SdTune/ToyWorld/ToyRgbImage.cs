using SdTune.Imaging;
using SkiaSharp;
using TorchSharp;

namespace SdTune.ToyWorld;

/// <summary>An RGB image as interleaved floats in [0, 255], the evaluator's working form.</summary>
internal sealed class ToyRgbImage
{
    public ToyRgbImage(int width, int height, float[] pixels)
    {
        if (pixels.Length != width * height * 3)
        {
            throw new ArgumentException($"Expected {width * height * 3} values for a {width}x{height} RGB image, got {pixels.Length}.", nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>R, G, B of pixel (x, y) at index 3 * (y * Width + x).</summary>
    public float[] Pixels { get; }

    public static ToyRgbImage FromBitmap(SKBitmap bitmap)
    {
        var rgba = BitmapPixels.ReadOpaqueRgba(bitmap);
        var pixels = new float[bitmap.Width * bitmap.Height * 3];
        for (var i = 0; i < bitmap.Width * bitmap.Height; i++)
        {
            pixels[3 * i] = rgba[4 * i];
            pixels[(3 * i) + 1] = rgba[(4 * i) + 1];
            pixels[(3 * i) + 2] = rgba[(4 * i) + 2];
        }

        return new ToyRgbImage(bitmap.Width, bitmap.Height, pixels);
    }

    /// <summary>From a (3, H, W) tensor in [-1, 1] (the pipelines' image convention); values outside are clamped.</summary>
    public static ToyRgbImage FromTensor(torch.Tensor image)
    {
        if (image.dim() != 3 || image.shape[0] != 3)
        {
            throw new ArgumentException($"Expected an image tensor of shape (3, H, W), got ({string.Join(", ", image.shape)}).", nameof(image));
        }

        using var scope = torch.NewDisposeScope();
        var height = (int)image.shape[1];
        var width = (int)image.shape[2];
        var hwc = ((image.detach().to(torch.CPU).to(torch.float32).clamp(-1, 1) + 1) * 127.5f).permute(1, 2, 0).contiguous();
        return new ToyRgbImage(width, height, hwc.data<float>().ToArray());
    }

    /// <summary>A Gaussian-blurred copy (separable, edges clamped).</summary>
    public ToyRgbImage Blur(double sigma)
    {
        if (sigma <= 0)
        {
            return this;
        }

        var radius = (int)Math.Ceiling(3 * sigma);
        var kernel = new float[(2 * radius) + 1];
        for (var i = -radius; i <= radius; i++)
        {
            kernel[i + radius] = (float)Math.Exp(-(i * i) / (2 * sigma * sigma));
        }

        var sum = kernel.Sum();
        for (var i = 0; i < kernel.Length; i++)
        {
            kernel[i] /= sum;
        }

        var horizontal = Convolve(Pixels, kernel, radius, dx: 1, dy: 0);
        return new ToyRgbImage(Width, Height, Convolve(horizontal, kernel, radius, dx: 0, dy: 1));
    }

    private float[] Convolve(float[] source, float[] kernel, int radius, int dx, int dy)
    {
        var result = new float[source.Length];
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                float r = 0, g = 0, b = 0;
                for (var k = -radius; k <= radius; k++)
                {
                    var sx = Math.Clamp(x + (k * dx), 0, Width - 1);
                    var sy = Math.Clamp(y + (k * dy), 0, Height - 1);
                    var s = 3 * ((sy * Width) + sx);
                    var w = kernel[k + radius];
                    r += w * source[s];
                    g += w * source[s + 1];
                    b += w * source[s + 2];
                }

                var o = 3 * ((y * Width) + x);
                result[o] = r;
                result[o + 1] = g;
                result[o + 2] = b;
            }
        }

        return result;
    }
}
