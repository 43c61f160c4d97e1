using OpenCvSharp;
using SkiaSharp;

namespace SdTune.Imaging.Preprocessors;

/// <summary>
/// Soft edges without a network: the luma blurred with a Gaussian of standard deviation <c>sigma</c>, its 3x3 Sobel
/// gradient magnitude, scaled so the strongest edge is 255. Wide grey edges in the spirit of the soft-edge
/// annotators (which need HED or PiDiNet weights); a flat image gives black.
/// </summary>
public sealed class GradientPreprocessor : IControlPreprocessor
{
    /// <inheritdoc/>
    public string Name => "gradient";

    /// <inheritdoc/>
    public string Description => "Soft edges: Sobel gradient magnitude of the blurred luma, strongest edge = 255 (--sigma 1.5).";

    /// <inheritdoc/>
    public IReadOnlyList<PreprocessorSetting> Settings { get; } = [new("sigma", 1.5, 0, 64, "standard deviation of the Gaussian blur, in pixels (0: none)")];

    /// <inheritdoc/>
    public SKBitmap Apply(SKBitmap image, IReadOnlyDictionary<string, double> settings)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(settings);
        using var gray = OpenCvImages.ToGray(image);
        using var smooth = new Mat();
        gray.ConvertTo(smooth, MatType.CV_32F);
        if (settings["sigma"] > 0)
        {
            Cv2.GaussianBlur(smooth, smooth, new Size(0, 0), settings["sigma"], settings["sigma"], BorderTypes.Reflect101);
        }

        using var dx = new Mat();
        using var dy = new Mat();
        using var magnitude = new Mat();
        Cv2.Sobel(smooth, dx, MatType.CV_32F, 1, 0, 3);
        Cv2.Sobel(smooth, dy, MatType.CV_32F, 0, 1, 3);
        Cv2.Magnitude(dx, dy, magnitude);
        Cv2.MinMaxLoc(magnitude, out _, out double max);
        using var scaled = new Mat();
        // A flat image has no gradient: scale by 0 rather than divide by it.
        magnitude.ConvertTo(scaled, MatType.CV_8U, max > 1e-6 ? 255.0 / max : 0);
        return OpenCvImages.GrayToBitmap(scaled);
    }
}
