using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Control;

/// <summary>
/// The ControlNet's small encoder of the conditioning image into the latent grid (the ControlNet paper's E): a 3x3
/// <c>conv_in</c>, then per width step a 3x3 convolution and a stride-2 3x3 convolution to the next width (<c>blocks</c>),
/// each followed by SiLU, then a zero-initialised 3x3 <c>conv_out</c> to the UNet's first block width.
/// </summary>
internal sealed class ControlNetConditioningEmbedding : nn.Module<Tensor, Tensor>
{
    // Field order is state-dict order.
    private readonly Conv2d conv_in;
    private readonly ModuleList<Conv2d> blocks = new();
    private readonly Conv2d conv_out;

    public ControlNetConditioningEmbedding(long embeddingChannels, long conditioningChannels, IReadOnlyList<int> widths)
        : base(nameof(ControlNetConditioningEmbedding))
    {
        conv_in = nn.Conv2d(conditioningChannels, widths[0], 3, padding: 1);
        for (var i = 0; i < widths.Count - 1; i++)
        {
            blocks.Add(nn.Conv2d(widths[i], widths[i], 3, padding: 1));
            blocks.Add(nn.Conv2d(widths[i], widths[i + 1], 3, padding: 1, stride: 2));
        }

        conv_out = nn.Conv2d(widths[^1], embeddingChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>The last convolution, which <see cref="ControlNetModel.FromUnet"/> zero-initialises.</summary>
    public Conv2d ConvOut => conv_out;

    public override Tensor forward(Tensor conditioning)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(conv_in.call(conditioning));
        foreach (var block in blocks)
        {
            h = nn.functional.silu(block.call(h));
        }

        return conv_out.call(h).MoveToOuterDisposeScope();
    }
}
