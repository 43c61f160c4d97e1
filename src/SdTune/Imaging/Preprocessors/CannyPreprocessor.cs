using OpenCvSharp;
using SkiaSharp;

namespace SdTune.Imaging.Preprocessors;

/// <summary>
/// Canny edges (<c>cv2.Canny(image, low, high)</c> on the RGB image, as ControlNet's canny annotator calls it):
/// white one-pixel edges on black. Gradients are 3x3 Sobel with the L1 norm, the per-pixel maximum over the three
/// channels; pixels above <c>high</c> start edges, pixels above <c>low</c> continue them.
/// </summary>
public sealed class CannyPreprocessor : IControlPreprocessor
{
    /// <inheritdoc/>
    public string Name => "canny";

    /// <inheritdoc/>
    public string Description => "Canny edges through OpenCV: white edges on black (--low 100, --high 200).";

    /// <inheritdoc/>
    public IReadOnlyList<PreprocessorSetting> Settings { get; } =
    [
        new("low", 100, 1, 255, "hysteresis threshold that continues an edge"),
        new("high", 200, 1, 255, "hysteresis threshold that starts an edge"),
    ];

    /// <inheritdoc/>
    public SKBitmap Apply(SKBitmap image, IReadOnlyDictionary<string, double> settings)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(settings);
        using var rgb = OpenCvImages.ToRgb(image);
        using var edges = new Mat();
        Cv2.Canny(rgb, edges, settings["low"], settings["high"]);
        return OpenCvImages.GrayToBitmap(edges);
    }
}
