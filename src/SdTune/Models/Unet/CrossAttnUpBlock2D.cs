using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Unet;

/// <summary>Up block of (resnet on [hidden | skip], spatial transformer) pairs, then an optional 2x upsampler.</summary>
internal sealed class CrossAttnUpBlock2D : UNetUpBlock
{
    // Field order is state-dict order.
    private readonly ModuleList<Transformer2DModel> attentions = new();
    private readonly ModuleList<ResnetBlock2D> resnets = new();
    private readonly ModuleList<Upsample2D> upsamplers = new();

    /// <param name="s">Shared settings.</param>
    /// <param name="inChannels">Channels of the deepest skip this block consumes (the next-lower level's width).</param>
    /// <param name="outChannels">Channels of this level.</param>
    /// <param name="prevOutputChannels">Channels coming from the previous up block.</param>
    /// <param name="layers">Resnets (layers_per_block + 1).</param>
    /// <param name="transformerLayers">Transformer blocks per spatial transformer.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="crossAttentionDim">Text context channels.</param>
    /// <param name="addUpsample">Whether to upsample at the end.</param>
    public CrossAttnUpBlock2D(UNetBlockSettings s, long inChannels, long outChannels, long prevOutputChannels, int layers,
        int transformerLayers, int heads, int crossAttentionDim, bool addUpsample)
        : base(nameof(CrossAttnUpBlock2D))
    {
        for (var i = 0; i < layers; i++)
        {
            var skipChannels = i == layers - 1 ? inChannels : outChannels;
            var resnetIn = i == 0 ? prevOutputChannels : outChannels;
            resnets.Add(new ResnetBlock2D(resnetIn + skipChannels, outChannels, s.TimeEmbeddingDim, s.Groups, s.Eps, s.Dropout));
            attentions.Add(new Transformer2DModel(outChannels, heads, outChannels / heads, transformerLayers, crossAttentionDim, s.Groups,
                s.UseLinearProjection, s.UpcastAttention, s.Dropout));
        }

        if (addUpsample)
        {
            upsamplers.Add(new Upsample2D(outChannels, outChannels));
        }

        RegisterComponents();
    }

    public override int SkipCount => resnets.Count;

    public override Tensor forward(Tensor hidden, IReadOnlyList<Tensor> skips, Tensor timeEmbedding, Tensor? context, long[]? upsampleSize)
    {
        using var scope = NewDisposeScope();
        var h = hidden;
        for (var i = 0; i < resnets.Count; i++)
        {
            h = cat([h, skips[skips.Count - 1 - i]], 1);
            h = resnets[i].forward(h, timeEmbedding);
            h = attentions[i].forward(h, context);
        }

        foreach (var up in upsamplers)
        {
            h = up.forward(h, upsampleSize);
        }

        return h.MoveToOuterDisposeScope();
    }
}
