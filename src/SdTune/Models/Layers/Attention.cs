using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>
/// Multi-head scaled-dot-product attention with diffusers' parameter names (<c>to_q</c>, <c>to_k</c>,
/// <c>to_v</c>, <c>to_out.0</c>, optional <c>group_norm</c>). Accepts token sequences (B, N, C) or feature
/// maps (B, C, H, W), which are flattened to H*W tokens and restored afterwards.
/// </summary>
internal sealed class Attention : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field order is state-dict order.
    private readonly GroupNorm? group_norm;
    private readonly Linear to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly Sequential to_out;
    private readonly long heads;
    private readonly bool upcast;
    private readonly bool residualConnection;
    private readonly double rescaleOutputFactor;

    /// <param name="queryDim">Channels of the query input (and of the output).</param>
    /// <param name="crossAttentionDim">Channels of the key/value context; null for self-attention.</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="headDim">Channels per head.</param>
    /// <param name="qkvBias">Whether to_q/to_k/to_v have a bias (VAE: yes; UNet: no).</param>
    /// <param name="upcast">Compute the attention itself in float32 whatever the input type.</param>
    /// <param name="groupNorm">Groups and epsilon of a GroupNorm applied to the input first (VAE); null for none.</param>
    /// <param name="residualConnection">Add the input to the output (VAE).</param>
    /// <param name="dropout">Dropout after the output projection.</param>
    /// <param name="rescaleOutputFactor">The output is divided by this.</param>
    public Attention(long queryDim, long? crossAttentionDim, long heads, long headDim, bool qkvBias, bool upcast,
        (long Groups, double Eps)? groupNorm = null, bool residualConnection = false, double dropout = 0.0, double rescaleOutputFactor = 1.0)
        : base(nameof(Attention))
    {
        var inner = heads * headDim;
        if (groupNorm is { } gn)
        {
            group_norm = GroupNorms.Create(gn.Groups, queryDim, gn.Eps);
        }

        to_q = nn.Linear(queryDim, inner, hasBias: qkvBias);
        to_k = nn.Linear(crossAttentionDim ?? queryDim, inner, hasBias: qkvBias);
        to_v = nn.Linear(crossAttentionDim ?? queryDim, inner, hasBias: qkvBias);
        to_out = nn.Sequential(nn.Linear(inner, queryDim, hasBias: true), nn.Dropout(dropout));
        this.heads = heads;
        this.upcast = upcast;
        this.residualConnection = residualConnection;
        this.rescaleOutputFactor = rescaleOutputFactor;
        RegisterComponents();
    }

    /// <summary>
    /// Turns the context into the inputs of the key and value projections (hypernetworks); null uses the context itself
    /// for both. Self-attention passes its own (normed) input as the context, as A1111 does.
    /// </summary>
    public Func<Tensor, (Tensor Key, Tensor Value)>? ContextTransform { get; set; }

    /// <summary>Attends from <paramref name="hidden"/> to <paramref name="context"/> (or to itself when null).</summary>
    public override Tensor forward(Tensor hidden, Tensor? context)
    {
        using var scope = NewDisposeScope();
        var residual = hidden;
        var spatial = hidden.dim() == 4;
        long b = hidden.shape[0], c = 0, height = 0, width = 0;
        var x = hidden;
        if (spatial)
        {
            c = hidden.shape[1];
            height = hidden.shape[2];
            width = hidden.shape[3];
            x = x.view(b, c, height * width).transpose(1, 2);
        }

        if (group_norm is not null)
        {
            x = group_norm.forward(x.transpose(1, 2)).transpose(1, 2);
        }

        var source = context ?? x;
        var (keySource, valueSource) = ContextTransform is { } transform ? transform(source) : (source, source);
        var q = SplitHeads(to_q.call(x), b);
        var k = SplitHeads(to_k.call(keySource), b);
        var v = SplitHeads(to_v.call(valueSource), b);
        var dtype = q.dtype;
        if (upcast && dtype != ScalarType.Float32 && dtype != ScalarType.Float64)
        {
            q = q.to(ScalarType.Float32);
            k = k.to(ScalarType.Float32);
            v = v.to(ScalarType.Float32);
        }

        var attended = nn.functional.scaled_dot_product_attention(q, k, v);
        var merged = attended.transpose(1, 2).reshape(b, -1, attended.shape[1] * attended.shape[3]).to(dtype);
        var output = to_out.forward(merged);
        if (spatial)
        {
            output = output.transpose(-1, -2).reshape(b, c, height, width);
        }

        if (residualConnection)
        {
            output = output + residual;
        }

        if (rescaleOutputFactor != 1.0)
        {
            output = output / rescaleOutputFactor;
        }

        return output.MoveToOuterDisposeScope();
    }

    /// <summary>The channels of the context the key and value projections read (the query's for self-attention).</summary>
    public long ContextWidth => to_k.in_features;

    private Tensor SplitHeads(Tensor t, long batch) => t.view(batch, -1, heads, t.shape[^1] / heads).transpose(1, 2);
}
