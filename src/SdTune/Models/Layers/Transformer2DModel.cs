using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>
/// Spatial transformer: GroupNorm, projection in (1x1 conv, or linear on the flattened tokens), a stack of
/// <see cref="BasicTransformerBlock"/>s, projection out, plus the input as residual.
/// </summary>
internal sealed class Transformer2DModel : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field order is state-dict order.
    private readonly GroupNorm norm;
    private readonly nn.Module<Tensor, Tensor> proj_in;
    private readonly ModuleList<BasicTransformerBlock> transformer_blocks;
    private readonly nn.Module<Tensor, Tensor> proj_out;
    private readonly bool useLinearProjection;

    public Transformer2DModel(long channels, long heads, long headDim, long layers, long crossAttentionDim, long groups,
        bool useLinearProjection, bool upcastAttention, double dropout = 0.0)
        : base(nameof(Transformer2DModel))
    {
        var inner = heads * headDim;
        norm = GroupNorms.Create(groups, channels, 1e-6);
        proj_in = useLinearProjection ? nn.Linear(channels, inner) : nn.Conv2d(channels, inner, 1);
        transformer_blocks = new ModuleList<BasicTransformerBlock>();
        for (var i = 0; i < layers; i++)
        {
            transformer_blocks.Add(new BasicTransformerBlock(inner, heads, headDim, crossAttentionDim, upcastAttention, dropout));
        }

        proj_out = useLinearProjection ? nn.Linear(inner, channels) : nn.Conv2d(inner, channels, 1);
        this.useLinearProjection = useLinearProjection;
        RegisterComponents();
    }

    /// <summary>
    /// Whether to recompute activations in backward instead of keeping them (training only). Each transformer layer is
    /// checkpointed on its own, so backward holds one layer's activations at a time, not the whole stack's (SDXL's
    /// middle levels have 10 layers).
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>Applies the transformer to a feature map (B, C, H, W) with text context (B, M, crossAttentionDim).</summary>
    public override Tensor forward(Tensor hidden, Tensor? context)
    {
        using var scope = NewDisposeScope();
        long b = hidden.shape[0], height = hidden.shape[2], width = hidden.shape[3];
        var x = norm.forward(hidden);
        if (useLinearProjection)
        {
            x = x.permute(0, 2, 3, 1).reshape(b, height * width, x.shape[1]);
            x = proj_in.call(x);
        }
        else
        {
            x = proj_in.call(x);
            x = x.permute(0, 2, 3, 1).reshape(b, height * width, x.shape[1]);
        }

        var checkpoint = GradientCheckpointing && GradientCheckpoint.IsActive(this);
        foreach (var block in transformer_blocks)
        {
            x = checkpoint ? GradientCheckpoint.Apply(t => block.forward(t[0]!, t[1]), x, context) : block.forward(x, context);
        }

        var inner = x.shape[2];
        if (useLinearProjection)
        {
            x = proj_out.call(x);
            x = x.reshape(b, height, width, x.shape[2]).permute(0, 3, 1, 2).contiguous();
        }
        else
        {
            x = x.reshape(b, height, width, inner).permute(0, 3, 1, 2).contiguous();
            x = proj_out.call(x);
        }

        return (x + hidden).MoveToOuterDisposeScope();
    }
}
