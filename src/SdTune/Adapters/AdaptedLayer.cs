using SdTune.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>
/// A Linear or Conv2d layer of a base model that an adapter modifies, with the geometry the adapter needs.
/// Holding the layer here (not as a module field) keeps it out of the adapter's state dict.
/// </summary>
public sealed class AdaptedLayer
{
    private AdaptedLayer(nn.Module<Tensor, Tensor> module, bool isConv, long inFeatures, long outFeatures, long[] kernel, long[] stride, long[] padding, long[] dilation, long groups)
    {
        Module = module;
        IsConv = isConv;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Kernel = kernel;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
    }

    /// <summary>The wrapped layer.</summary>
    public nn.Module<Tensor, Tensor> Module { get; }

    /// <summary>True for Conv2d, false for Linear.</summary>
    public bool IsConv { get; }

    /// <summary>Input features (Linear) or channels (Conv2d).</summary>
    public long InFeatures { get; }

    /// <summary>Output features (Linear) or channels (Conv2d).</summary>
    public long OutFeatures { get; }

    /// <summary>Kernel size (kh, kw); (1, 1) for Linear.</summary>
    public IReadOnlyList<long> Kernel { get; }

    /// <summary>Convolution stride; (1, 1) for Linear.</summary>
    public IReadOnlyList<long> Stride { get; }

    /// <summary>Convolution padding; (0, 0) for Linear.</summary>
    public IReadOnlyList<long> Padding { get; }

    /// <summary>Convolution dilation; (1, 1) for Linear.</summary>
    public IReadOnlyList<long> Dilation { get; }

    /// <summary>Convolution groups (adapters support 1 only).</summary>
    public long Groups { get; }

    /// <summary>Whether this is a convolution with a kernel larger than 1x1 (kohya adapts those only with conv_dim).</summary>
    public bool IsSpatialConv => IsConv && (Kernel[0] != 1 || Kernel[1] != 1);

    /// <summary>The layer's weight.</summary>
    public Parameter Weight => Module switch
    {
        Linear l => l.weight,
        Conv2d c => c.weight,
        _ => throw new InvalidOperationException($"Adapted layer is a {Module.GetType().Name}, not a Linear or Conv2d."),
    };

    /// <summary>Shape of the weight: [out, in] or [out, in, kh, kw].</summary>
    public long[] WeightShape => IsConv ? [OutFeatures, InFeatures, Kernel[0], Kernel[1]] : [OutFeatures, InFeatures];

    /// <summary>Describes a Linear or Conv2d layer; null for any other module.</summary>
    public static AdaptedLayer? TryCreate(nn.Module module) => module switch
    {
        Linear l => new AdaptedLayer(l, false, l.in_features, l.out_features, [1, 1], [1, 1], [0, 0], [1, 1], 1),
        Conv2d c when c.groups == 1 && c.padding is not null => new AdaptedLayer(
            c, true, c.in_channels, c.out_channels, [.. c.kernel_size], [.. c.stride], [.. c.padding], [.. c.dilation], c.groups),
        _ => null,
    };

    /// <summary>Applies this layer's operation with another weight and no bias: <c>x Wᵀ</c> or <c>conv2d(x, W)</c>.</summary>
    public Tensor Apply(Tensor input, Tensor weight) => IsConv
        ? PaddedConvolution.Conv2d(input, weight, null, [.. Stride], [.. Padding], [.. Dilation])
        : nn.functional.linear(input, weight);
}
