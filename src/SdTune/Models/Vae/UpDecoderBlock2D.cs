using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Vae;

/// <summary>VAE decoder level: resnets without time embedding or skips, then an optional 2x upsampler.</summary>
internal sealed class UpDecoderBlock2D : nn.Module<Tensor, Tensor>
{
    // Field order is state-dict order.
    private readonly ModuleList<ResnetBlock2D> resnets = new();
    private readonly ModuleList<Upsample2D> upsamplers = new();

    public UpDecoderBlock2D(long inChannels, long outChannels, int layers, long groups, double eps, bool addUpsample)
        : base(nameof(UpDecoderBlock2D))
    {
        for (var i = 0; i < layers; i++)
        {
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, null, groups, eps));
        }

        if (addUpsample)
        {
            upsamplers.Add(new Upsample2D(outChannels, outChannels));
        }

        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var h = input;
        foreach (var resnet in resnets)
        {
            h = resnet.forward(h, null);
        }

        foreach (var up in upsamplers)
        {
            h = up.forward(h, null);
        }

        return h.MoveToOuterDisposeScope();
    }
}
