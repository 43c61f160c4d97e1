using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>
/// Fits a control image to the generation size as sd-webui-controlnet does (the geometry of its three resize modes):
/// <list type="bullet">
/// <item><see cref="ControlResizeMode.JustResize"/>: resized to exactly width x height;</item>
/// <item><see cref="ControlResizeMode.CropAndResize"/>: scaled by k = max(W/w, H/h) to round(w·k) x round(h·k),
///   then the window at ((w' − W) div 2, (h' − H) div 2) is kept;</item>
/// <item><see cref="ControlResizeMode.ResizeAndFill"/>: scaled by k = min(W/w, H/h) and pasted at
///   ((W − w') div 2, (H − h') div 2) on a background of the per-channel median of the image's border pixels
///   (top and bottom rows, left and right columns).</item>
/// </list>
/// Rounding is half to even (NumPy's); resampling is <see cref="ImageResize"/>'s Lanczos, the filter diffusers'
/// image processor uses for control images. Results are new opaque RGB bitmaps owned by the caller.
/// </summary>
public static class ControlImageResize
{
    /// <summary>Fits <paramref name="image"/> to <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static SKBitmap Fit(SKBitmap image, int width, int height, ControlResizeMode mode)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        return mode switch
        {
            ControlResizeMode.JustResize => ResizeOrCopy(image, width, height),
            ControlResizeMode.CropAndResize => CropAndResize(image, width, height),
            ControlResizeMode.ResizeAndFill => ResizeAndFill(image, width, height),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown resize mode."),
        };
    }

    private static SKBitmap CropAndResize(SKBitmap image, int width, int height)
    {
        var k = Math.Max((double)width / image.Width, (double)height / image.Height);
        var scaledWidth = Math.Max(width, Round(image.Width * k));
        var scaledHeight = Math.Max(height, Round(image.Height * k));
        using var scaled = ResizeOrCopy(image, scaledWidth, scaledHeight);
        return ImageCrop.Crop(scaled, (scaledWidth - width) / 2, (scaledHeight - height) / 2, width, height);
    }

    private static SKBitmap ResizeAndFill(SKBitmap image, int width, int height)
    {
        var k = Math.Min((double)width / image.Width, (double)height / image.Height);
        var scaledWidth = Math.Clamp(Round(image.Width * k), 1, width);
        var scaledHeight = Math.Clamp(Round(image.Height * k), 1, height);
        var background = BorderMedian(image);
        using var scaled = ResizeOrCopy(image, scaledWidth, scaledHeight);
        var source = BitmapPixels.ReadOpaqueRgba(scaled);
        var output = new byte[width * height * 4];
        for (var i = 0; i < width * height; i++)
        {
            background.CopyTo(output.AsSpan(4 * i));
        }

        var (left, top) = ((width - scaledWidth) / 2, (height - scaledHeight) / 2);
        for (var y = 0; y < scaledHeight; y++)
        {
            source.AsSpan(y * scaledWidth * 4, scaledWidth * 4).CopyTo(output.AsSpan((((top + y) * width) + left) * 4));
        }

        return BitmapPixels.CreateOpaque(width, height, output);
    }

    /// <summary>The per-channel median of the border pixels (corners counted twice, as the extension concatenates the four edges), alpha 255.</summary>
    private static byte[] BorderMedian(SKBitmap image)
    {
        var rgba = BitmapPixels.ReadOpaqueRgba(image);
        var (w, h) = (image.Width, image.Height);
        var border = new List<int>();
        for (var x = 0; x < w; x++)
        {
            border.Add(x);
            border.Add(((h - 1) * w) + x);
        }

        for (var y = 0; y < h; y++)
        {
            border.Add(y * w);
            border.Add((y * w) + w - 1);
        }

        var median = new byte[] { 0, 0, 0, 255 };
        for (var c = 0; c < 3; c++)
        {
            var values = border.Select(p => (int)rgba[(4 * p) + c]).Order().ToArray();
            var mid = values.Length / 2;
            // NumPy's median of an even count is the mean of the middle two; casting back to uint8 truncates.
            median[c] = (byte)(values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2);
        }

        return median;
    }

    private static SKBitmap ResizeOrCopy(SKBitmap image, int width, int height) =>
        image.Width == width && image.Height == height ? ImageCrop.Crop(image, 0, 0, width, height) : ImageResize.Resize(image, width, height);

    private static int Round(double value) => (int)Math.Round(value, MidpointRounding.ToEven);
}
