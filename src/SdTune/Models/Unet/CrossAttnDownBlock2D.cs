using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Unet;

/// <summary>Down block of (resnet, spatial transformer) pairs, then an optional stride-2 downsampler.</summary>
internal sealed class CrossAttnDownBlock2D : UNetDownBlock
{
    // Field order is state-dict order.
    private readonly ModuleList<Transformer2DModel> attentions = new();
    private readonly ModuleList<ResnetBlock2D> resnets = new();
    private readonly ModuleList<Downsample2D> downsamplers = new();

    public CrossAttnDownBlock2D(UNetBlockSettings s, long inChannels, long outChannels, int layers, int transformerLayers,
        int heads, int crossAttentionDim, bool addDownsample, int downsamplePadding)
        : base(nameof(CrossAttnDownBlock2D))
    {
        for (var i = 0; i < layers; i++)
        {
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, s.TimeEmbeddingDim, s.Groups, s.Eps, s.Dropout));
            attentions.Add(new Transformer2DModel(outChannels, heads, outChannels / heads, transformerLayers, crossAttentionDim, s.Groups,
                s.UseLinearProjection, s.UpcastAttention, s.Dropout));
        }

        if (addDownsample)
        {
            downsamplers.Add(new Downsample2D(outChannels, outChannels, downsamplePadding));
        }

        RegisterComponents();
    }

    public override bool HasCrossAttention => true;

    public override (Tensor Output, Tensor[] Skips) forward(Tensor hidden, Tensor timeEmbedding, Tensor? context, Tensor? additionalResidual)
    {
        using var scope = NewDisposeScope();
        var skips = new List<Tensor>();
        var h = hidden;
        for (var i = 0; i < resnets.Count; i++)
        {
            h = resnets[i].forward(h, timeEmbedding);
            h = attentions[i].forward(h, context);
            if (i == resnets.Count - 1 && additionalResidual is not null)
            {
                h = AddAdapterFeature(h, additionalResidual);
            }

            skips.Add(h);
        }

        foreach (var down in downsamplers)
        {
            h = down.forward(h);
            skips.Add(h);
        }

        scope.MoveToOuter(skips);
        scope.MoveToOuter(h);
        return (h, [.. skips]);
    }
}
