using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>Pre-LayerNorm transformer block: self-attention, cross-attention to the text context, GEGLU feed-forward, each residual.</summary>
internal sealed class BasicTransformerBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field order is state-dict order.
    private readonly LayerNorm norm1;
    private readonly Attention attn1;
    private readonly LayerNorm norm2;
    private readonly Attention attn2;
    private readonly LayerNorm norm3;
    private readonly FeedForward ff;

    public BasicTransformerBlock(long dim, long heads, long headDim, long crossAttentionDim, bool upcastAttention, double dropout = 0.0)
        : base(nameof(BasicTransformerBlock))
    {
        norm1 = nn.LayerNorm(dim, eps: 1e-5);
        attn1 = new Attention(dim, null, heads, headDim, qkvBias: false, upcast: upcastAttention, dropout: dropout);
        norm2 = nn.LayerNorm(dim, eps: 1e-5);
        attn2 = new Attention(dim, crossAttentionDim, heads, headDim, qkvBias: false, upcast: upcastAttention, dropout: dropout);
        norm3 = nn.LayerNorm(dim, eps: 1e-5);
        ff = new FeedForward(dim, dropout: dropout);
        RegisterComponents();
    }

    /// <summary>Applies the block to tokens (B, N, dim) with context (B, M, crossAttentionDim).</summary>
    public override Tensor forward(Tensor hidden, Tensor? context)
    {
        using var scope = NewDisposeScope();
        var x = attn1.forward(norm1.forward(hidden), null) + hidden;
        x = attn2.forward(norm2.forward(x), context) + x;
        x = ff.forward(norm3.forward(x)) + x;
        return x.MoveToOuterDisposeScope();
    }
}
