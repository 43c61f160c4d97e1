using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Runtime;

/// <summary>
/// Works around a libtorch 2.10 CPU bug. oneDNN's convolution kernels lay channels out in blocks of 16 and, when a
/// layer's channel count is not a multiple of the block, the padding channels of the reordered buffers are not always
/// zeroed: whatever the allocator's recycled memory held mixes into the result. Measured on an AVX-512 CPU against a
/// float64 reference: 3×3 float32 convolutions with 24 or 40 input channels wrong in most passes; the input gradient
/// of a 64 → 4 channel convolution NaN in about one backward pass in ten (a UNet's <c>conv_out</c>, a LoCon's rank-4
/// down convolution); bfloat16 convolutions with 4 output channels wrong in every pass, and the input gradient of
/// bfloat16 convolutions with 3 to 8 input channels wrong in every pass. Padding the weight (and, for
/// input channels, the input) with zeros up to a multiple of 16 and dropping the extra outputs keeps the kernels on
/// unpadded layouts; the values are those of the plain convolution. Only the cases measured wrong take the padded route,
/// so SD 1.x/2.x/SDXL (every inner channel count a multiple of 16) pad nothing in float32 inference and only their thin
/// edge layers in training.
/// </summary>
public static class PaddedConvolution
{
    /// <summary>Channel counts that are multiples of this need no padding.</summary>
    public const long ChannelBlock = 16;

    /// <summary>Whether a convolution with these channel counts over <paramref name="input"/> needs padding.</summary>
    public static bool IsNeeded(Tensor input, long outChannels, long inChannels, long groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (extraIn, extraOut) = Extra(input, outChannels, inChannels, groups);
        return extraIn > 0 || extraOut > 0;
    }

    /// <summary><c>conv2d</c> (one group) that pads channels when <see cref="IsNeeded"/> says so.</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] dilation)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var outChannels = weight.shape[0];
        var inChannels = weight.shape[1];
        var (extraIn, extraOut) = Extra(input, outChannels, inChannels, 1);
        if (extraIn == 0 && extraOut == 0)
        {
            return nn.functional.conv2d(input, weight, bias, stride, padding, dilation);
        }

        using var scope = NewDisposeScope();
        if (extraIn > 0)
        {
            input = cat([input, zeros([input.shape[0], extraIn, .. input.shape[2..]], input.dtype, input.device)], 1);
            weight = cat([weight, zeros([outChannels, extraIn, .. weight.shape[2..]], weight.dtype, weight.device)], 1);
        }

        if (extraOut > 0)
        {
            weight = cat([weight, zeros([extraOut, .. weight.shape[1..]], weight.dtype, weight.device)], 0);
            bias = bias is null ? null : cat([bias, zeros(extraOut, bias.dtype, bias.device)], 0);
        }

        var output = nn.functional.conv2d(input, weight, bias, stride, padding, dilation);
        return (extraOut > 0 ? output.narrow(1, 0, outChannels) : output).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Makes every <see cref="Conv2d"/> under <paramref name="root"/> whose channel counts need it compute through
    /// <see cref="Conv2d(Tensor, Tensor, Tensor?, long[], long[], long[])"/> (a forward hook that replaces the output;
    /// registered before any adapter hook, so adapters add to the corrected output). Such layers are the few thin
    /// ones at a model's edges, so the discarded plain output costs next to nothing. Call once, when the module is built.
    /// </summary>
    public static void Guard(nn.Module root)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (var module in root.modules().Prepend(root).Distinct(ReferenceEqualityComparer.Instance))
        {
            if (module is not Conv2d conv || conv.groups != 1 || conv.padding is null
                || (Padding(conv.out_channels) == 0 && Padding(conv.in_channels) == 0))
            {
                continue;
            }

            long[] stride = [.. conv.stride];
            long[] padding = [.. conv.padding];
            long[] dilation = [.. conv.dilation];
            conv.register_forward_hook((_, input, output) =>
                IsNeeded(input, conv.out_channels, conv.in_channels) ? Conv2d(input, conv.weight!, conv.bias, stride, padding, dilation) : output);
        }
    }

    private static long Padding(long channels) => channels % ChannelBlock == 0 ? 0 : ChannelBlock - (channels % ChannelBlock);

    // float32 (measured): forward passes go wrong only with more than 16 input channels off the block, input gradients
    // with output channels off the block. Reduced-precision kernels went wrong with any channel count off the block.
    private static (long In, long Out) Extra(Tensor input, long outChannels, long inChannels, long groups)
    {
        if (groups != 1 || input.device_type != DeviceType.CPU)
        {
            return (0, 0);
        }

        if (input.dtype != ScalarType.Float32)
        {
            return (Padding(inChannels), Padding(outChannels));
        }

        var needsInputGradient = input.requires_grad && is_grad_enabled();
        return (inChannels > ChannelBlock ? Padding(inChannels) : 0, needsInputGradient ? Padding(outChannels) : 0);
    }
}
