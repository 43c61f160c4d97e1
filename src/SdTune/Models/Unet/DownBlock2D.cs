using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Unet;

/// <summary>Down block of resnets only, then an optional stride-2 downsampler.</summary>
internal sealed class DownBlock2D : UNetDownBlock
{
    // Field order is state-dict order.
    private readonly ModuleList<ResnetBlock2D> resnets = new();
    private readonly ModuleList<Downsample2D> downsamplers = new();

    public DownBlock2D(UNetBlockSettings s, long inChannels, long outChannels, int layers, bool addDownsample, int downsamplePadding)
        : base(nameof(DownBlock2D))
    {
        for (var i = 0; i < layers; i++)
        {
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, s.TimeEmbeddingDim, s.Groups, s.Eps, s.Dropout));
        }

        if (addDownsample)
        {
            downsamplers.Add(new Downsample2D(outChannels, outChannels, downsamplePadding));
        }

        RegisterComponents();
    }

    public override bool HasCrossAttention => false;

    /// <remarks>
    /// A T2I-Adapter residual is added to the block's output, after the downsampler, as diffusers does for blocks without
    /// attention. diffusers adds it in place to the tensor that is also the block's last skip connection, so the up path
    /// sees the sum there too (as in the original T2I-Adapter, which adds before storing the skip); so does this block.
    /// </remarks>
    public override (Tensor Output, Tensor[] Skips) forward(Tensor hidden, Tensor timeEmbedding, Tensor? context, Tensor? additionalResidual)
    {
        using var scope = NewDisposeScope();
        var skips = new List<Tensor>();
        var h = hidden;
        foreach (var resnet in resnets)
        {
            h = resnet.forward(h, timeEmbedding);
            skips.Add(h);
        }

        foreach (var down in downsamplers)
        {
            h = down.forward(h);
            skips.Add(h);
        }

        if (additionalResidual is not null)
        {
            h = AddAdapterFeature(h, additionalResidual);
            skips[^1] = h;
        }

        scope.MoveToOuter(skips);
        scope.MoveToOuter(h);
        return (h, [.. skips]);
    }
}
