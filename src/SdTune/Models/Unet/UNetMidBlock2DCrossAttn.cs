using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Unet;

/// <summary>The UNet's bottleneck: resnet, then (spatial transformer, resnet).</summary>
internal sealed class UNetMidBlock2DCrossAttn : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    // Field order is state-dict order.
    private readonly ModuleList<Transformer2DModel> attentions = new();
    private readonly ModuleList<ResnetBlock2D> resnets = new();

    public UNetMidBlock2DCrossAttn(UNetBlockSettings s, long channels, int transformerLayers, int heads, int crossAttentionDim, double outputScaleFactor)
        : base(nameof(UNetMidBlock2DCrossAttn))
    {
        resnets.Add(new ResnetBlock2D(channels, channels, s.TimeEmbeddingDim, s.Groups, s.Eps, s.Dropout, outputScaleFactor));
        attentions.Add(new Transformer2DModel(channels, heads, channels / heads, transformerLayers, crossAttentionDim, s.Groups,
            s.UseLinearProjection, s.UpcastAttention, s.Dropout));
        resnets.Add(new ResnetBlock2D(channels, channels, s.TimeEmbeddingDim, s.Groups, s.Eps, s.Dropout, outputScaleFactor));
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor timeEmbedding, Tensor? context)
    {
        using var scope = NewDisposeScope();
        var h = resnets[0].forward(hidden, timeEmbedding);
        for (var i = 0; i < attentions.Count; i++)
        {
            h = attentions[i].forward(h, context);
            h = resnets[i + 1].forward(h, timeEmbedding);
        }

        return h.MoveToOuterDisposeScope();
    }
}
