using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Control.Adapter;

/// <summary>
/// One level of the light adapter, a bottleneck a quarter as wide as its output: optionally halve the resolution, a 1x1
/// <c>in_conv</c> down to out/4, <c>resnets</c>, a 1x1 <c>out_conv</c> back up to the output width.
/// </summary>
internal sealed class LightAdapterBlock : nn.Module<Tensor, Tensor>
{
    // Field order is state-dict order.
    private readonly Conv2d in_conv;
    private readonly ModuleList<LightAdapterResnetBlock> resnets = new();
    private readonly Conv2d out_conv;
    private readonly bool down;

    public LightAdapterBlock(long inChannels, long outChannels, int resBlocks, bool down = false)
        : base(nameof(LightAdapterBlock))
    {
        this.down = down;
        var mid = outChannels / 4;
        in_conv = nn.Conv2d(inChannels, mid, 1);
        for (var i = 0; i < resBlocks; i++)
        {
            resnets.Add(new LightAdapterResnetBlock(mid));
        }

        out_conv = nn.Conv2d(mid, outChannels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = in_conv.call(down ? T2IAdapterNetwork.Downsample(input) : input);
        foreach (var resnet in resnets)
        {
            x = resnet.call(x);
        }

        return out_conv.call(x).MoveToOuterDisposeScope();
    }
}
