using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Unet;

/// <summary>Up block of resnets on [hidden | skip], then an optional 2x upsampler.</summary>
internal sealed class UpBlock2D : UNetUpBlock
{
    // Field order is state-dict order.
    private readonly ModuleList<ResnetBlock2D> resnets = new();
    private readonly ModuleList<Upsample2D> upsamplers = new();

    public UpBlock2D(UNetBlockSettings s, long inChannels, long outChannels, long prevOutputChannels, int layers, bool addUpsample)
        : base(nameof(UpBlock2D))
    {
        for (var i = 0; i < layers; i++)
        {
            var skipChannels = i == layers - 1 ? inChannels : outChannels;
            var resnetIn = i == 0 ? prevOutputChannels : outChannels;
            resnets.Add(new ResnetBlock2D(resnetIn + skipChannels, outChannels, s.TimeEmbeddingDim, s.Groups, s.Eps, s.Dropout));
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
        }

        foreach (var up in upsamplers)
        {
            h = up.forward(h, upsampleSize);
        }

        return h.MoveToOuterDisposeScope();
    }
}
