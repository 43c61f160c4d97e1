namespace SdTune.Training.Data;

/// <summary>
/// The resampling filter named by kohya's <c>resize_interpolation</c> key. When none is set, downscaling uses
/// <see cref="Area"/> and upscaling uses <see cref="Lanczos"/>.
/// </summary>
public enum ResizeInterpolation
{
    /// <summary><c>lanczos</c>.</summary>
    Lanczos,

    /// <summary><c>nearest</c>.</summary>
    Nearest,

    /// <summary><c>bilinear</c> or <c>linear</c>.</summary>
    Bilinear,

    /// <summary><c>bicubic</c> or <c>cubic</c>.</summary>
    Bicubic,

    /// <summary><c>area</c>: pixel-area averaging, the default for downscaling.</summary>
    Area,

    /// <summary><c>box</c>.</summary>
    Box,
}
