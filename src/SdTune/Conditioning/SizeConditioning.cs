using static TorchSharp.torch;

namespace SdTune.Conditioning;

/// <summary>
/// SDXL's size and crop micro-conditioning of one image: the six "time ids" (original height, width, crop top, crop left,
/// target height, width) that the UNet embeds next to the pooled text embedding.
/// </summary>
/// <param name="OriginalHeight">The image's height before resizing.</param>
/// <param name="OriginalWidth">The image's width before resizing.</param>
/// <param name="CropTop">The crop's top coordinate.</param>
/// <param name="CropLeft">The crop's left coordinate.</param>
/// <param name="TargetHeight">The generated or trained height.</param>
/// <param name="TargetWidth">The generated or trained width.</param>
public readonly record struct SizeConditioning(int OriginalHeight, int OriginalWidth, int CropTop, int CropLeft, int TargetHeight, int TargetWidth)
{
    /// <summary>An uncropped image generated at its own size (what generation asks for: original = target, crop 0, 0).</summary>
    /// <param name="width">The width.</param>
    /// <param name="height">The height.</param>
    public static SizeConditioning Uncropped(int width, int height) => new(height, width, 0, 0, height, width);

    /// <summary>The time ids of a batch, (B, 6) float32.</summary>
    /// <param name="sizes">One entry per batch row.</param>
    /// <param name="device">Where the tensor is made.</param>
    public static Tensor TimeIds(IReadOnlyList<SizeConditioning> sizes, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        var values = sizes.SelectMany(s => new float[] { s.OriginalHeight, s.OriginalWidth, s.CropTop, s.CropLeft, s.TargetHeight, s.TargetWidth }).ToArray();
        return tensor(values, [sizes.Count, 6], ScalarType.Float32, device);
    }
}
