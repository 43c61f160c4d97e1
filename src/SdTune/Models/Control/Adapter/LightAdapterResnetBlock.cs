using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Control.Adapter;

/// <summary>The light adapter's residual block: x + block2(ReLU(block1(x))), two 3x3 convolutions.</summary>
internal sealed class LightAdapterResnetBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d block1;
    private readonly Conv2d block2;

    public LightAdapterResnetBlock(long channels)
        : base(nameof(LightAdapterResnetBlock))
    {
        block1 = nn.Conv2d(channels, channels, 3, padding: 1);
        block2 = nn.Conv2d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return (block2.call(nn.functional.relu(block1.call(input))) + input).MoveToOuterDisposeScope();
    }
}
