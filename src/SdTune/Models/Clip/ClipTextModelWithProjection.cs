using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>
/// transformers' <c>CLIPTextModelWithProjection</c>: <see cref="ClipTextModel"/> plus a bias-free
/// <c>text_projection</c> (hidden → projection_dim) of the pooled output, which gives
/// <see cref="ClipTextOutput.TextEmbeds"/>. SDXL's second text encoder (OpenCLIP bigG) is this model.
/// </summary>
public sealed class ClipTextModelWithProjection : ClipTextEncoder
{
    // Declaration order is state-dict order: text_model.*, then text_projection.weight.
    [ComponentName(Name = "text_model")]
    private readonly ClipTextTransformer textModel;

    [ComponentName(Name = "text_projection")]
    private readonly Linear textProjection;

    /// <summary>Builds the model with freshly initialised weights (the checkpoint formats in <c>Checkpoints</c> load real ones).</summary>
    /// <param name="config">The architecture, e.g. <see cref="ClipTextConfig.OpenClipBigG"/>.</param>
    /// <param name="device">Where to create the parameters; null uses the default device.</param>
    /// <param name="dtype">Parameter type; null uses the default dtype.</param>
    /// <exception cref="ArgumentException">The config is invalid.</exception>
    public ClipTextModelWithProjection(ClipTextConfig config, Device? device = null, ScalarType? dtype = null)
        : base(nameof(ClipTextModelWithProjection), config)
    {
        textModel = new ClipTextTransformer(config, device, dtype);
        textProjection = nn.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false, device: device, dtype: dtype);
        RegisterComponents();
    }

    private protected override ClipTextTransformer TextModel => textModel;

    private protected override Tensor? Project(Tensor pooled) => textProjection.call(pooled);
}
