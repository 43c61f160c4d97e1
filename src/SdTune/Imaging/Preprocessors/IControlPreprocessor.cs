using SkiaSharp;

namespace SdTune.Imaging.Preprocessors;

/// <summary>
/// A control-image preprocessor (an "annotator" in ControlNet's terms) that needs no network weights: it turns a
/// photo or drawing into the kind of map a ControlNet was trained on (edges, a binary sketch, ...). Implementations
/// are stateless; register one in <see cref="PreprocessorRegistry"/>.
/// </summary>
public interface IControlPreprocessor
{
    /// <summary>The name users type (<c>canny</c>), also written as the infotext's <c>Module</c>.</summary>
    string Name { get; }

    /// <summary>One line for help texts.</summary>
    string Description { get; }

    /// <summary>The numeric settings it reads, with their defaults and ranges (empty when it has none).</summary>
    IReadOnlyList<PreprocessorSetting> Settings { get; }

    /// <summary>Runs on <paramref name="image"/> and returns a new opaque RGB bitmap of the same size (owned by the caller).</summary>
    /// <param name="image">The input image.</param>
    /// <param name="settings">A value for every entry of <see cref="Settings"/>, already checked against its range.</param>
    SKBitmap Apply(SKBitmap image, IReadOnlyDictionary<string, double> settings);
}
