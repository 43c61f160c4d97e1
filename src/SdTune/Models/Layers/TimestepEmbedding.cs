using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>Two-layer MLP on a sinusoidal embedding: <c>linear_1</c>, SiLU, <c>linear_2</c>.</summary>
internal sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Linear linear_1;
    private readonly Linear linear_2;

    public TimestepEmbedding(long inChannels, long embeddingDim)
        : base(nameof(TimestepEmbedding))
    {
        linear_1 = nn.Linear(inChannels, embeddingDim);
        linear_2 = nn.Linear(embeddingDim, embeddingDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return linear_2.call(nn.functional.silu(linear_1.call(input))).MoveToOuterDisposeScope();
    }
}
