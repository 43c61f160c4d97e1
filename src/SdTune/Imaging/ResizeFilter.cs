namespace SdTune.Imaging;

/// <summary>Reconstruction filters for <see cref="ImageResize"/>; all are antialiased when shrinking.</summary>
public enum ResizeFilter
{
    /// <summary>Lanczos, 3 lobes: sharpest; diffusers' default interpolation for its training scripts.</summary>
    Lanczos,

    /// <summary>Mitchell–Netravali cubic (B = C = 1/3): soft, almost no ringing.</summary>
    Mitchell,

    /// <summary>Keys cubic with a = -0.5 (Catmull–Rom), PIL's and torchvision's "bicubic".</summary>
    Bicubic,

    /// <summary>Triangle filter, PIL's and torchvision's "bilinear".</summary>
    Bilinear,
}
