using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>Reads and writes the RGB content of bitmaps of any colour type as packed RGBA bytes.</summary>
internal static class BitmapPixels
{
    /// <summary>
    /// The pixels as tightly packed, straight-alpha RGBA bytes, composited onto white where not opaque
    /// (the same rule as <see cref="ImageFile.Load"/>), so alpha is 255 everywhere.
    /// </summary>
    public static byte[] ReadOpaqueRgba(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        if (bitmap.Width <= 0 || bitmap.Height <= 0)
        {
            throw new ArgumentException($"The bitmap is empty ({bitmap.Width}x{bitmap.Height}).", nameof(bitmap));
        }

        var info = new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var pixels = new byte[info.BytesSize];
        using var pixmap = bitmap.PeekPixels()
            ?? throw new ArgumentException("The bitmap has no readable pixels.", nameof(bitmap));
        unsafe
        {
            fixed (byte* p = pixels)
            {
                if (!pixmap.ReadPixels(info, (IntPtr)p, info.RowBytes, 0, 0))
                {
                    throw new ArgumentException($"Cannot convert a {bitmap.ColorType} bitmap to RGBA.", nameof(bitmap));
                }
            }
        }

        for (var i = 3; i < pixels.Length; i += 4)
        {
            int a = pixels[i];
            if (a != 255)
            {
                pixels[i - 3] = (byte)(((pixels[i - 3] * a) + (255 * (255 - a)) + 127) / 255);
                pixels[i - 2] = (byte)(((pixels[i - 2] * a) + (255 * (255 - a)) + 127) / 255);
                pixels[i - 1] = (byte)(((pixels[i - 1] * a) + (255 * (255 - a)) + 127) / 255);
                pixels[i] = 255;
            }
        }

        return pixels;
    }

    /// <summary>A new opaque RGBA bitmap holding tightly packed RGBA bytes.</summary>
    public static SKBitmap CreateOpaque(int width, int height, ReadOnlySpan<byte> rgba)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var target = bitmap.GetPixelSpan();
        var rowBytes = width * 4;
        for (var y = 0; y < height; y++)
        {
            rgba.Slice(y * rowBytes, rowBytes).CopyTo(target.Slice(y * bitmap.RowBytes, rowBytes));
        }

        return bitmap;
    }
}
