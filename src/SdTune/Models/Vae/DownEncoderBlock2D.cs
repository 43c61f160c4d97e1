using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Vae;

/// <summary>VAE encoder level: resnets without time embedding, then an optional stride-2 downsampler (asymmetric padding).</summary>
internal sealed class DownEncoderBlock2D : nn.Module<Tensor, Tensor>
{
    // Field order is state-dict order.
    private readonly ModuleList<ResnetBlock2D> resnets = new();
    private readonly ModuleList<Downsample2D> downsamplers = new();

    public DownEncoderBlock2D(long inChannels, long outChannels, int layers, long groups, double eps, bool addDownsample)
        : base(nameof(DownEncoderBlock2D))
    {
        for (var i = 0; i < layers; i++)
        {
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, null, groups, eps));
        }

        if (addDownsample)
        {
            downsamplers.Add(new Downsample2D(outChannels, outChannels, padding: 0));
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

        foreach (var down in downsamplers)
        {
            h = down.forward(h);
        }

        return h.MoveToOuterDisposeScope();
    }
}
