namespace SdTune.Imaging.Preprocessors;

/// <summary>A numeric setting of an <see cref="IControlPreprocessor"/>; the CLI spells it <c>--</c><see cref="Name"/>.</summary>
/// <param name="Name">The key (<c>low</c>, <c>high</c>, <c>threshold</c>).</param>
/// <param name="Default">The value used when none is given.</param>
/// <param name="Min">The smallest valid value.</param>
/// <param name="Max">The largest valid value.</param>
/// <param name="Description">One line for help texts.</param>
public sealed record PreprocessorSetting(string Name, double Default, double Min, double Max, string Description);
