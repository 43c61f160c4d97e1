using OpenCvSharp;
using SkiaSharp;

namespace SdTune.Imaging.Preprocessors;

/// <summary>
/// Binarisation (the extension's "threshold" module, also a quick scribble from a drawing): white where the luma is
/// above <c>threshold</c>, black elsewhere.
/// </summary>
public sealed class ThresholdPreprocessor : IControlPreprocessor
{
    /// <inheritdoc/>
    public string Name => "threshold";

    /// <inheritdoc/>
    public string Description => "Binarise: white where the luma exceeds --threshold (127), black elsewhere.";

    /// <inheritdoc/>
    public IReadOnlyList<PreprocessorSetting> Settings { get; } = [new("threshold", 127, 0, 255, "luma above which a pixel is white")];

    /// <inheritdoc/>
    public SKBitmap Apply(SKBitmap image, IReadOnlyDictionary<string, double> settings)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(settings);
        using var gray = OpenCvImages.ToGray(image);
        using var binary = new Mat();
        Cv2.Threshold(gray, binary, settings["threshold"], 255, ThresholdTypes.Binary);
        return OpenCvImages.GrayToBitmap(binary);
    }
}
