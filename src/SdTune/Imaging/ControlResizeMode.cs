namespace SdTune.Imaging;

/// <summary>
/// How a control (conditioning) image is fitted to the generation size, with sd-webui-controlnet's three modes.
/// Their display names are what the extension writes into the infotext (<c>Resize Mode: Crop and Resize</c>).
/// </summary>
public enum ControlResizeMode
{
    /// <summary>"Crop and Resize" (the extension's default, its "inner fit"): scale to cover the target, crop the centre.</summary>
    CropAndResize,

    /// <summary>"Just Resize": stretch to the target size, ignoring the aspect ratio (what diffusers' pipelines do).</summary>
    JustResize,

    /// <summary>"Resize and Fill" (the "outer fit"): scale to fit inside the target, fill the rest with the border's median colour.</summary>
    ResizeAndFill,
}
