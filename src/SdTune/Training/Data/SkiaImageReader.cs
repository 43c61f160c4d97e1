using SkiaSharp;
using TorchSharp;

namespace SdTune.Training.Data;

/// <summary>
/// A minimal <see cref="IImageReader"/> on SkiaSharp: <c>SKCodec</c> for the size and EXIF origin, decode,
/// orient, resize (mipmapped linear when shrinking, cubic when enlarging), crop, flip.
/// To be replaced by the shared imaging code (SdTune.Imaging) once it lands; keep it small.
/// </summary>
public sealed class SkiaImageReader : IImageReader
{
    /// <inheritdoc/>
    public PixelSize Probe(string path)
    {
        using var codec = OpenCodec(path);
        var info = codec.Info;
        return SwapsAxes(codec.EncodedOrigin) ? new PixelSize(info.Height, info.Width) : new PixelSize(info.Width, info.Height);
    }

    /// <inheritdoc/>
    public torch.Tensor Load(string path, PixelSize resizeTo, PixelRect crop, bool flipHorizontal)
    {
        if (crop.Left < 0 || crop.Top < 0 || crop.Width < 1 || crop.Height < 1
            || crop.Left + crop.Width > resizeTo.Width || crop.Top + crop.Height > resizeTo.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(crop), $"{path}: crop {crop} lies outside the resized image {resizeTo}.");
        }

        using var codec = OpenCodec(path);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            throw new DatasetException(path, $"cannot decode the image ({result}).");
        }

        using var oriented = Orient(decoded, codec.EncodedOrigin);
        var shrinking = resizeTo.Width <= oriented.Width && resizeTo.Height <= oriented.Height;
        var sampling = shrinking
            ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : new SKSamplingOptions(SKCubicResampler.CatmullRom);
        using var resized = resizeTo.Width == oriented.Width && resizeTo.Height == oriented.Height
            ? oriented.Copy()
            : oriented.Resize(new SKImageInfo(resizeTo.Width, resizeTo.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul), sampling)
              ?? throw new DatasetException(path, $"cannot resize the image to {resizeTo}.");

        var pixels = resized.GetPixelSpan();
        var stride = resized.RowBytes;
        int w = crop.Width, h = crop.Height, plane = w * h;
        var data = new float[3 * plane];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var sx = crop.Left + (flipHorizontal ? w - 1 - x : x);
                var o = ((crop.Top + y) * stride) + (sx * 4);
                var i = (y * w) + x;
                data[i] = (pixels[o] / 127.5f) - 1f;
                data[plane + i] = (pixels[o + 1] / 127.5f) - 1f;
                data[(2 * plane) + i] = (pixels[o + 2] / 127.5f) - 1f;
            }
        }

        return torch.tensor(data, [3L, h, w], torch.float32);
    }

    private static SKCodec OpenCodec(string path)
    {
        if (!File.Exists(path))
        {
            throw new DatasetException(path, "image file not found.");
        }

        var codec = SKCodec.Create(path, out var result);
        return codec ?? throw new DatasetException(path, $"not a readable image (corrupt or unsupported format: {result}).");
    }

    private static bool SwapsAxes(SKEncodedOrigin origin) =>
        origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    // Remaps stored pixels to displayed pixels for the eight EXIF orientations.
    private static SKBitmap Orient(SKBitmap source, SKEncodedOrigin origin)
    {
        if (origin == SKEncodedOrigin.TopLeft)
        {
            return source.Copy();
        }

        int sw = source.Width, sh = source.Height;
        var swap = SwapsAxes(origin);
        int dw = swap ? sh : sw, dh = swap ? sw : sh;
        var target = new SKBitmap(new SKImageInfo(dw, dh, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var src = source.GetPixelSpan();
        var dst = target.GetPixelSpan();
        int srcStride = source.RowBytes, dstStride = target.RowBytes;
        for (var y = 0; y < dh; y++)
        {
            for (var x = 0; x < dw; x++)
            {
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (sw - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (sw - 1 - x, sh - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, sh - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, sh - 1 - x),
                    SKEncodedOrigin.RightBottom => (sw - 1 - y, sh - 1 - x),
                    SKEncodedOrigin.LeftBottom => (sw - 1 - y, x),
                    _ => (x, y),
                };
                src.Slice((sy * srcStride) + (sx * 4), 4).CopyTo(dst.Slice((y * dstStride) + (x * 4), 4));
            }
        }

        return target;
    }
}
