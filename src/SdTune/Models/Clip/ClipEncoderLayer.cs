using SdTune.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>One pre-LayerNorm transformer block (transformers' <c>encoder.layers.N</c>).</summary>
internal sealed class ClipEncoderLayer : nn.Module<Tensor, Tensor>
{
    // Declaration order is state-dict order: self_attn, layer_norm1, mlp, layer_norm2.
    [ComponentName(Name = "self_attn")]
    private readonly ClipAttention selfAttention;

    [ComponentName(Name = "layer_norm1")]
    private readonly LayerNorm layerNorm1;

    [ComponentName(Name = "mlp")]
    private readonly ClipMlp mlp;

    [ComponentName(Name = "layer_norm2")]
    private readonly LayerNorm layerNorm2;

    public ClipEncoderLayer(ClipTextConfig config, Device? device, ScalarType? dtype)
        : base("layer")
    {
        selfAttention = new ClipAttention(config, device, dtype);
        layerNorm1 = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        mlp = new ClipMlp(config, device, dtype);
        layerNorm2 = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Whether to recompute this layer's activations in backward instead of keeping them (training only).</summary>
    public bool GradientCheckpointing { get; set; }

    public override Tensor forward(Tensor x) =>
        GradientCheckpointing && GradientCheckpoint.IsActive(this)
            ? GradientCheckpoint.Apply(h => Compute(h[0]!), x)
            : Compute(x);

    private Tensor Compute(Tensor x)
    {
        var h = x + selfAttention.forward(layerNorm1.forward(x));
        return h + mlp.forward(layerNorm2.forward(h));
    }
}
