using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>
/// transformers' <c>CLIPTextModel</c>: the text encoder of SD 1.x and SD 2.x and the first text encoder of
/// SDXL. State-dict names are transformers' (<c>text_model.embeddings.token_embedding.weight</c>, ...,
/// <c>text_model.final_layer_norm.bias</c>), so diffusers <c>text_encoder</c> weights load unchanged.
/// </summary>
public sealed class ClipTextModel : ClipTextEncoder
{
    [ComponentName(Name = "text_model")]
    private readonly ClipTextTransformer textModel;

    /// <summary>Builds the model with freshly initialised weights (the checkpoint formats in <c>Checkpoints</c> load real ones).</summary>
    /// <param name="config">The architecture, e.g. <see cref="ClipTextConfig.ClipL"/>.</param>
    /// <param name="device">Where to create the parameters; null uses the default device.</param>
    /// <param name="dtype">Parameter type; null uses the default dtype.</param>
    /// <exception cref="ArgumentException">The config is invalid.</exception>
    public ClipTextModel(ClipTextConfig config, Device? device = null, ScalarType? dtype = null)
        : base(nameof(ClipTextModel), config)
    {
        textModel = new ClipTextTransformer(config, device, dtype);
        RegisterComponents();
    }

    private protected override ClipTextTransformer TextModel => textModel;

    private protected override Tensor? Project(Tensor pooled) => null;
}
