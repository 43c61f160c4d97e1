using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>
/// Causal multi-head self-attention (transformers' <c>self_attn</c>). Scale is head_dim^-0.5, the default of
/// scaled_dot_product_attention. Field order follows the reference's state dict: k, v, q, out.
/// </summary>
internal sealed class ClipAttention : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "k_proj")]
    private readonly Linear keyProjection;

    [ComponentName(Name = "v_proj")]
    private readonly Linear valueProjection;

    [ComponentName(Name = "q_proj")]
    private readonly Linear queryProjection;

    [ComponentName(Name = "out_proj")]
    private readonly Linear outputProjection;

    private readonly long heads;
    private readonly long headDim;

    public ClipAttention(ClipTextConfig config, Device? device, ScalarType? dtype)
        : base("self_attn")
    {
        heads = config.NumAttentionHeads;
        headDim = config.HeadDim;
        keyProjection = nn.Linear(config.HiddenSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        valueProjection = nn.Linear(config.HiddenSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        queryProjection = nn.Linear(config.HiddenSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        outputProjection = nn.Linear(config.HiddenSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>(B, S, hidden) to (B, S, hidden); token i attends to tokens 0..i.</summary>
    public override Tensor forward(Tensor x)
    {
        var batch = x.shape[0];
        var length = x.shape[1];
        var q = SplitHeads(queryProjection.call(x), batch, length);
        var k = SplitHeads(keyProjection.call(x), batch, length);
        var v = SplitHeads(valueProjection.call(x), batch, length);
        var attended = nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true);
        var merged = attended.transpose(1, 2).reshape(batch, length, heads * headDim);
        return outputProjection.call(merged);
    }

    private Tensor SplitHeads(Tensor t, long batch, long length) =>
        t.view(batch, length, heads, headDim).transpose(1, 2);
}
