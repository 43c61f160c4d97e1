using SkiaSharp;

namespace SdTune.Imaging.Preprocessors;

/// <summary>
/// Inverts every channel (255 − value): turns black lines on white (a drawing, a scan) into the white-on-black maps
/// that lineart, scribble and canny ControlNets take, as the extension's "invert" module does.
/// </summary>
public sealed class InvertPreprocessor : IControlPreprocessor
{
    /// <inheritdoc/>
    public string Name => "invert";

    /// <inheritdoc/>
    public string Description => "Invert (255 - value): black lines on white become white lines on black.";

    /// <inheritdoc/>
    public IReadOnlyList<PreprocessorSetting> Settings { get; } = [];

    /// <inheritdoc/>
    public SKBitmap Apply(SKBitmap image, IReadOnlyDictionary<string, double> settings)
    {
        ArgumentNullException.ThrowIfNull(image);
        var rgba = BitmapPixels.ReadOpaqueRgba(image);
        for (var i = 0; i < rgba.Length; i += 4)
        {
            rgba[i] = (byte)(255 - rgba[i]);
            rgba[i + 1] = (byte)(255 - rgba[i + 1]);
            rgba[i + 2] = (byte)(255 - rgba[i + 2]);
        }

        return BitmapPixels.CreateOpaque(image.Width, image.Height, rgba);
    }
}
