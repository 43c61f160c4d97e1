using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Vae;

/// <summary>
/// The VAE's bottleneck: resnet, then (single-head self-attention over all pixels with GroupNorm and residual,
/// resnet). The attention may be left out (<c>mid_block_add_attention = false</c>).
/// </summary>
internal sealed class UNetMidBlock2D : nn.Module<Tensor, Tensor>
{
    // Field order is state-dict order.
    private readonly ModuleList<Attention> attentions = new();
    private readonly ModuleList<ResnetBlock2D> resnets = new();

    public UNetMidBlock2D(long channels, long groups, double eps, bool addAttention)
        : base(nameof(UNetMidBlock2D))
    {
        resnets.Add(new ResnetBlock2D(channels, channels, null, groups, eps));
        if (addAttention)
        {
            attentions.Add(new Attention(channels, null, heads: 1, headDim: channels, qkvBias: true, upcast: false,
                groupNorm: (groups, eps), residualConnection: true));
        }

        resnets.Add(new ResnetBlock2D(channels, channels, null, groups, eps));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = resnets[0].forward(input, null);
        if (attentions.Count > 0)
        {
            h = attentions[0].forward(h, null);
        }

        h = resnets[1].forward(h, null);
        return h.MoveToOuterDisposeScope();
    }
}
