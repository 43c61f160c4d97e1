using SkiaSharp;

namespace SdTune.Tests.Imaging;

/// <summary>Builds small bitmaps and encoded images for the imaging tests.</summary>
internal static class TestImages
{
    /// <summary>An opaque RGBA bitmap whose pixel (x, y) is <paramref name="color"/>(x, y).</summary>
    public static SKBitmap Create(int width, int height, Func<int, int, SKColor> color)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, color(x, y));
            }
        }

        return bitmap;
    }

    public static SKBitmap Solid(int width, int height, SKColor color) => Create(width, height, (_, _) => color);

    /// <summary>A deterministic pattern with every channel varying.</summary>
    public static SKBitmap Pattern(int width, int height) =>
        Create(width, height, (x, y) => new SKColor((byte)((x * 37) + (y * 11)), (byte)((x * 5) + (y * 53)), (byte)((x * y) + 7)));

    public static byte[] EncodePng(SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static byte[] EncodeJpeg(SKBitmap bitmap, int quality = 95)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    /// <summary>Inserts an APP1 Exif segment holding only an orientation tag right after the JPEG SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        Assert.True(jpeg[0] == 0xFF && jpeg[1] == 0xD8, "not a JPEG");
        byte[] tiff =
        [
            (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, // little-endian TIFF header, IFD at offset 8
            1, 0, // one entry
            0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, (byte)(orientation >> 8), 0, 0, // Orientation, SHORT, count 1
            0, 0, 0, 0, // no next IFD
        ];
        byte[] exif = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        var length = exif.Length + 2;
        byte[] segment = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. exif];
        return [.. jpeg[..2], .. segment, .. jpeg[2..]];
    }

    /// <summary>Pixel (x, y) of any bitmap as RGBA.</summary>
    public static SKColor Pixel(SKBitmap bitmap, int x, int y) => bitmap.GetPixel(x, y);
}
