using SdTune.Imaging;
using SdTune.Imaging.Preprocessors;
using SdTune.Options;
using SkiaSharp;

namespace SdTune.Pipelines.Control;

/// <summary>
/// One control of a generation: a ControlNet or T2I-Adapter, its conditioning image and how it is applied (the
/// settings of an sd-webui-controlnet unit). The image is fitted to the generation size with <see cref="ResizeMode"/>
/// after the optional <see cref="Preprocessor"/> ran on it, and given to the model in [0, 1].
/// </summary>
public sealed record ControlRequest
{
    /// <summary>ControlNet or T2I-Adapter.</summary>
    public required ControlType Type { get; init; }

    /// <summary>
    /// The model: a ControlNet as a diffusers folder or an original single file (<c>.safetensors</c>/<c>.pth</c>), or
    /// a T2I-Adapter as a diffusers folder.
    /// </summary>
    public required string ModelPath { get; init; }

    /// <summary>The conditioning image (the caller keeps ownership).</summary>
    public required SKBitmap Image { get; init; }

    /// <summary>Multiplies the residuals or features (diffusers' <c>controlnet_conditioning_scale</c>, the extension's "Weight").</summary>
    public double Scale { get; init; } = 1.0;

    /// <summary>
    /// The control acts at the steps whose fraction of the run lies in [<see cref="GuidanceStart"/>,
    /// <see cref="GuidanceEnd"/>) (see <see cref="ControlGuidance"/>).
    /// </summary>
    public double GuidanceStart { get; init; }

    /// <summary>End of the guidance window (exclusive); 1 keeps the control to the last step.</summary>
    public double GuidanceEnd { get; init; } = 1.0;

    /// <summary>How the image is fitted to the generation size; "Crop and Resize" by default, as in the extension.</summary>
    public ControlResizeMode ResizeMode { get; init; } = ControlResizeMode.CropAndResize;

    /// <summary>
    /// ControlNets only: diffusers' guess mode: the ControlNet sees only the conditional half of the CFG batch (the
    /// unconditional half gets no residual) and its residuals are scaled from 0.1 (first skip) to 1 (mid block).
    /// </summary>
    public bool GuessMode { get; init; }

    /// <summary>A preprocessor from <see cref="PreprocessorRegistry"/> run on the image first (default settings); null for none.</summary>
    public string? Preprocessor { get; init; }

    /// <summary>The option the CLI spells this control's model with, for messages.</summary>
    internal string OptionName => Type == ControlType.ControlNet ? "--controlnet" : "--t2i-adapter";

    /// <summary>Checks the settings; messages name the CLI option and the model path.</summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(ModelPath);
        ArgumentNullException.ThrowIfNull(Image);
        if (NumericRange.AnyFloat32.Problem(Scale) is { } scale)
        {
            throw new ArgumentException($"{OptionName} {ModelPath}: the scale {scale}");
        }

        var fraction = NumericRange.Probability;
        if (fraction.Problem(GuidanceStart) is { } start)
        {
            throw new ArgumentException($"--control-start ({OptionName} {ModelPath}): {start}");
        }

        if (fraction.Problem(GuidanceEnd) is { } end)
        {
            throw new ArgumentException($"--control-end ({OptionName} {ModelPath}): {end}");
        }

        if (GuidanceStart > GuidanceEnd)
        {
            throw new ArgumentException($"--control-start ({OptionName} {ModelPath}): the start {GuidanceStart} is after the end {GuidanceEnd}.");
        }

        if (GuessMode && Type != ControlType.ControlNet)
        {
            throw new ArgumentException($"--guess-mode ({OptionName} {ModelPath}): guess mode applies to ControlNets only.");
        }

        if (Preprocessor is { } name)
        {
            try
            {
                PreprocessorRegistry.Find(name);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"--control-preprocess ({OptionName} {ModelPath}): {e.Message}", e);
            }
        }
    }
}
