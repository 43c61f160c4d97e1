using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Control.Adapter;

/// <summary>
/// One level of a full adapter: optionally halve the resolution, a 1x1 <c>in_conv</c> when the width changes, then
/// <c>resnets</c>.
/// </summary>
internal sealed class AdapterBlock : nn.Module<Tensor, Tensor>
{
    // Field order is state-dict order.
    private readonly Conv2d? in_conv;
    private readonly ModuleList<AdapterResnetBlock> resnets = new();
    private readonly bool down;

    public AdapterBlock(long inChannels, long outChannels, int resBlocks, bool down = false)
        : base(nameof(AdapterBlock))
    {
        this.down = down;
        if (inChannels != outChannels)
        {
            in_conv = nn.Conv2d(inChannels, outChannels, 1);
        }

        for (var i = 0; i < resBlocks; i++)
        {
            resnets.Add(new AdapterResnetBlock(outChannels));
        }

        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = down ? T2IAdapterNetwork.Downsample(input) : input;
        if (in_conv is not null)
        {
            x = in_conv.call(x);
        }

        foreach (var resnet in resnets)
        {
            x = resnet.call(x);
        }

        return x.MoveToOuterDisposeScope();
    }
}
