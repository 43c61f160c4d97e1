using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>
/// Loads image files (PNG, JPEG, WebP, GIF, BMP, ... whatever Skia decodes) as opaque RGB bitmaps, the form every
/// other part of SdTune works with:
/// <list type="bullet">
/// <item>the EXIF orientation is applied, so the pixels are upright as a viewer shows them (like PIL's <c>exif_transpose</c>);</item>
/// <item>grayscale, palette and CMYK images are converted to RGB by the decoder;</item>
/// <item>transparency is composited onto a matte colour (white by default): transparent pixels often carry
///       arbitrary colour values, so dropping alpha would expose them;</item>
/// <item>embedded colour profiles are not applied, like PIL and the Python training tools: pixel values are taken as stored.</item>
/// </list>
/// The result is an <see cref="SKColorType.Rgba8888"/> bitmap with <see cref="SKAlphaType.Opaque"/> alpha; the caller owns it.
/// </summary>
public static class ImageFile
{
    /// <summary>Loads <paramref name="path"/> as an upright, opaque RGB bitmap.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="matte">Background for transparent pixels; white when null.</param>
    /// <exception cref="ImageLoadException">The file is missing, not an image, truncated or corrupt.</exception>
    public static SKBitmap Load(string path, SKColor? matte = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new ImageLoadException(path, $"Image file '{path}' does not exist.");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageLoadException(path, $"Image file '{path}' cannot be read: {e.Message}", e);
        }

        return Decode(bytes, path, matte);
    }

    /// <summary>Reads only the header: the upright size (EXIF orientation applied) without decoding pixels.</summary>
    /// <exception cref="ImageLoadException">The file is missing or not an image.</exception>
    public static (int Width, int Height) Probe(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new ImageLoadException(path, $"Image file '{path}' does not exist.");
        }

        using var codec = SKCodec.Create(path, out var result)
            ?? throw new ImageLoadException(path, $"'{path}' is not an image in a format SdTune can decode, or its header is corrupt ({result}).");
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width <= 0 || height <= 0)
        {
            throw new ImageLoadException(path, $"'{path}' declares an empty image ({width}x{height}).");
        }

        // Origins 5-8 (LeftTop .. LeftBottom) rotate by 90 degrees and swap the axes.
        return codec.EncodedOrigin >= SKEncodedOrigin.LeftTop ? (height, width) : (width, height);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="name"/> names it in error messages.</summary>
    /// <exception cref="ImageLoadException">The bytes are not a complete image Skia can decode.</exception>
    public static SKBitmap Decode(ReadOnlySpan<byte> encoded, string name, SKColor? matte = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data);
        if (codec is null)
        {
            throw new ImageLoadException(name, $"'{name}' is not an image in a format SdTune can decode (PNG, JPEG, WebP, GIF, BMP, ICO, WBMP), or its header is corrupt.");
        }

        var width = codec.Info.Width;
        var height = codec.Info.Height;
        if (width <= 0 || height <= 0)
        {
            throw new ImageLoadException(name, $"'{name}' declares an empty image ({width}x{height}).");
        }

        // No colour space on the destination: Skia then converts formats but applies no colour profile.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[info.BytesSize];
        var result = codec.GetPixels(info, pixels);
        if (result != SKCodecResult.Success)
        {
            var why = result == SKCodecResult.IncompleteInput
                ? "the file is truncated (the decoder ran out of data)"
                : $"decoding failed ({result})";
            throw new ImageLoadException(name, $"Image '{name}' cannot be decoded: {why}.");
        }

        Composite(pixels, matte ?? SKColors.White);
        return Orient(pixels, width, height, codec.EncodedOrigin);
    }

    /// <summary>Blends every pixel onto the matte (straight alpha) and makes it opaque.</summary>
    private static void Composite(byte[] rgba, SKColor matte)
    {
        for (var i = 0; i < rgba.Length; i += 4)
        {
            int a = rgba[i + 3];
            if (a == 255)
            {
                continue;
            }

            rgba[i] = Blend(rgba[i], matte.Red, a);
            rgba[i + 1] = Blend(rgba[i + 1], matte.Green, a);
            rgba[i + 2] = Blend(rgba[i + 2], matte.Blue, a);
            rgba[i + 3] = 255;
        }
    }

    private static byte Blend(int color, int background, int alpha) =>
        (byte)(((color * alpha) + (background * (255 - alpha)) + 127) / 255);

    /// <summary>Copies the decoded pixels into a new bitmap, turned upright as the EXIF origin says.</summary>
    private static SKBitmap Orient(byte[] rgba, int width, int height, SKEncodedOrigin origin)
    {
        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var outWidth = swap ? height : width;
        var outHeight = swap ? width : height;
        var bitmap = new SKBitmap(new SKImageInfo(outWidth, outHeight, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var target = bitmap.GetPixelSpan();
        var rowBytes = bitmap.RowBytes;
        var source = MemoryMarshalHelpers.AsUInts(rgba);
        for (var y = 0; y < outHeight; y++)
        {
            var row = MemoryMarshalHelpers.AsUInts(target.Slice(y * rowBytes, outWidth * 4));
            for (var x = 0; x < outWidth; x++)
            {
                // Output pixel (x, y) shows source pixel (sx, sy).
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (width - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, height - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, height - 1 - x),
                    SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x),
                    SKEncodedOrigin.LeftBottom => (width - 1 - y, x),
                    _ => (x, y),
                };
                row[x] = source[(sy * width) + sx];
            }
        }

        return bitmap;
    }
}
