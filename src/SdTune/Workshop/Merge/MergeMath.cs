using static TorchSharp.torch;

namespace SdTune.Workshop.Merge;

/// <summary>
/// The formulas of A1111's checkpoint merger on one tensor, computed in float32 (float64 when an input is float64)
/// whatever the stored types. α = 0 returns A and a weighted sum with α = 1 returns B untouched, so those merges
/// reproduce their model bit for bit.
/// </summary>
internal static class MergeMath
{
    /// <summary>
    /// <c>A·(1 − α) + B·α</c> or <c>A + (B − C)·α</c>. The result may be one of the inputs; callers own all of them
    /// (a dispose scope).
    /// </summary>
    public static Tensor Combine(MergeMode mode, Tensor a, Tensor b, Tensor? c, double alpha)
    {
        if (alpha == 0)
        {
            return a;
        }

        if (mode == MergeMode.WeightedSum && alpha == 1)
        {
            return b;
        }

        var type = new[] { a, b, c }.Any(t => t?.dtype == ScalarType.Float64) ? ScalarType.Float64 : ScalarType.Float32;
        // In place on fresh copies: the largest SDXL tensor (bigG's token embedding) costs ~250 MB per float32 copy.
        if (mode == MergeMode.WeightedSum)
        {
            return a.to_type(type, copy: true).mul_(1 - alpha).add_(b.to_type(type), alpha);
        }

        var difference = b.to_type(type, copy: true).sub_(c!.to_type(type));
        return a.to_type(type, copy: true).add_(difference, alpha);
    }

    /// <summary>
    /// Merges only the first channels of A's input convolution, those B and C have: an inpainting (9 channels) or
    /// instruct-pix2pix (8) UNet merged with a plain one (4), as A1111 does. The other channels stay A's.
    /// </summary>
    public static Tensor CombineLeadingChannels(MergeMode mode, Tensor a, Tensor b, Tensor? c, double alpha)
    {
        var channels = b.shape[1];
        var merged = Combine(mode, a.narrow(1, 0, channels), b, c, alpha);
        var result = a.to_type(merged.dtype).clone();
        result.narrow(1, 0, channels).copy_(merged);
        return result;
    }
}
