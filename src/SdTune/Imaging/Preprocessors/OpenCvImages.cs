using OpenCvSharp;
using SkiaSharp;

namespace SdTune.Imaging.Preprocessors;

/// <summary>Copies between Skia bitmaps and OpenCV matrices (8-bit, RGB channel order as the annotators use).</summary>
internal static class OpenCvImages
{
    /// <summary>The bitmap as an 8-bit, 3-channel RGB matrix (owned by the caller); loads OpenCV first.</summary>
    /// <exception cref="OpenCvUnavailableException">OpenCV's native library cannot be loaded.</exception>
    public static Mat ToRgb(SKBitmap bitmap)
    {
        OpenCvRuntime.EnsureLoaded();
        var rgba = BitmapPixels.ReadOpaqueRgba(bitmap);
        using var wrapped = Mat.FromPixelData(bitmap.Height, bitmap.Width, MatType.CV_8UC4, rgba);
        var rgb = new Mat();
        Cv2.CvtColor(wrapped, rgb, ColorConversionCodes.RGBA2RGB);
        return rgb;
    }

    /// <summary>The luma (OpenCV's RGB to gray: 0.299 R + 0.587 G + 0.114 B) as an 8-bit, 1-channel matrix.</summary>
    public static Mat ToGray(SKBitmap bitmap)
    {
        using var rgb = ToRgb(bitmap);
        var gray = new Mat();
        Cv2.CvtColor(rgb, gray, ColorConversionCodes.RGB2GRAY);
        return gray;
    }

    /// <summary>An 8-bit, 1-channel matrix as an RGB bitmap with the value in all three channels.</summary>
    public static SKBitmap GrayToBitmap(Mat gray)
    {
        if (gray.Type() != MatType.CV_8UC1)
        {
            throw new ArgumentException($"Expected an 8-bit single-channel matrix, got {gray.Type()}.", nameof(gray));
        }

        using var continuous = gray.IsContinuous() ? null : gray.Clone();
        (continuous ?? gray).GetArray(out byte[] values);
        var rgba = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            rgba[4 * i] = rgba[(4 * i) + 1] = rgba[(4 * i) + 2] = values[i];
            rgba[(4 * i) + 3] = 255;
        }

        return BitmapPixels.CreateOpaque(gray.Cols, gray.Rows, rgba);
    }
}
