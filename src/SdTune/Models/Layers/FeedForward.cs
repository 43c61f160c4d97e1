using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>The transformer feed-forward: <c>net.0</c> GEGLU (dim to 4*dim), <c>net.1</c> dropout, <c>net.2</c> linear back to dim.</summary>
internal sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    private readonly Sequential net;

    public FeedForward(long dim, long mult = 4, double dropout = 0.0)
        : base(nameof(FeedForward))
    {
        var inner = dim * mult;
        net = nn.Sequential(new GEGLU(dim, inner), nn.Dropout(dropout), nn.Linear(inner, dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => net.forward(input);
}
