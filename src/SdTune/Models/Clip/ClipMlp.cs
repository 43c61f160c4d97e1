using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>The feed-forward block of a layer (transformers' <c>mlp</c>): fc1, activation, fc2.</summary>
internal sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    private const double QuickGeluSlope = 1.702;

    [ComponentName(Name = "fc1")]
    private readonly Linear fc1;

    [ComponentName(Name = "fc2")]
    private readonly Linear fc2;

    private readonly ClipActivation activation;

    public ClipMlp(ClipTextConfig config, Device? device, ScalarType? dtype)
        : base("mlp")
    {
        activation = config.HiddenAct;
        fc1 = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: true, device: device, dtype: dtype);
        fc2 = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: true, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var h = fc1.call(x);
        h = activation switch
        {
            ClipActivation.QuickGelu => h * sigmoid(h * QuickGeluSlope),
            ClipActivation.Gelu => nn.functional.gelu(h),
            _ => throw new InvalidOperationException($"Unknown CLIP activation {activation}."),
        };
        return fc2.call(h);
    }
}
