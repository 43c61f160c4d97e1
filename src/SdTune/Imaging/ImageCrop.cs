using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>Crops RGB bitmaps; results are new opaque RGBA bitmaps owned by the caller.</summary>
public static class ImageCrop
{
    /// <summary>Copies the rectangle at (<paramref name="left"/>, <paramref name="top"/>) of the given size.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rectangle is not inside the image.</exception>
    public static SKBitmap Crop(SKBitmap bitmap, int left, int top, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        if (width < 1 || height < 1 || left < 0 || top < 0 || left + width > bitmap.Width || top + height > bitmap.Height)
        {
            throw new ArgumentOutOfRangeException(
                nameof(left),
                $"Crop rectangle {width}x{height} at ({left}, {top}) is not inside the {bitmap.Width}x{bitmap.Height} image.");
        }

        var rgba = BitmapPixels.ReadOpaqueRgba(bitmap);
        var output = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
        {
            rgba.AsSpan((((top + y) * bitmap.Width) + left) * 4, width * 4).CopyTo(output.AsSpan(y * width * 4));
        }

        return BitmapPixels.CreateOpaque(width, height, output);
    }

    /// <summary>
    /// Crops the centre; the offset is <c>round((size - crop) / 2)</c> with halves to even, as torchvision's
    /// <c>CenterCrop</c> (used by the diffusers training scripts) computes it.
    /// </summary>
    public static SKBitmap CenterCrop(SKBitmap bitmap, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        var (left, top) = CenterOffset(bitmap.Width, bitmap.Height, width, height);
        return Crop(bitmap, left, top, width, height);
    }

    /// <summary>The top-left corner <see cref="CenterCrop"/> uses (needed e.g. for SDXL's crop conditioning).</summary>
    public static (int Left, int Top) CenterOffset(int imageWidth, int imageHeight, int width, int height) =>
        ((int)Math.Round((imageWidth - width) / 2.0, MidpointRounding.ToEven),
         (int)Math.Round((imageHeight - height) / 2.0, MidpointRounding.ToEven));
}
