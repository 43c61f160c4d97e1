using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Control.Adapter;

/// <summary>The full adapters' residual block: x + block2(ReLU(block1(x))), a 3x3 then a 1x1 convolution.</summary>
internal sealed class AdapterResnetBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d block1;
    private readonly Conv2d block2;

    public AdapterResnetBlock(long channels)
        : base(nameof(AdapterResnetBlock))
    {
        block1 = nn.Conv2d(channels, channels, 3, padding: 1);
        block2 = nn.Conv2d(channels, channels, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return (block2.call(nn.functional.relu(block1.call(input))) + input).MoveToOuterDisposeScope();
    }
}
