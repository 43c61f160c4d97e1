using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>
/// transformers' <c>CLIPTextTransformer</c> (the <c>text_model</c> submodule): embeddings, encoder layers,
/// final LayerNorm. The encoder models drive it layer by layer so they can keep or skip hidden states.
/// </summary>
internal sealed class ClipTextTransformer : nn.Module
{
    // Declaration order is state-dict order: embeddings, encoder, final_layer_norm.
    [ComponentName(Name = "embeddings")]
    private readonly ClipTextEmbeddings embeddings;

    [ComponentName(Name = "encoder")]
    private readonly ClipEncoder encoder;

    [ComponentName(Name = "final_layer_norm")]
    private readonly LayerNorm finalLayerNorm;

    public ClipTextTransformer(ClipTextConfig config, Device? device, ScalarType? dtype)
        : base("text_model")
    {
        embeddings = new ClipTextEmbeddings(config, device, dtype);
        encoder = new ClipEncoder(config, device, dtype);
        finalLayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        RegisterComponents();
    }

    public int LayerCount => encoder.Count;

    public Tensor Embed(Tensor inputIds) => embeddings.forward(inputIds);

    public Embedding TokenEmbedding => embeddings.TokenEmbedding;

    /// <summary>The token and position embeddings.</summary>
    public ClipTextEmbeddings Embeddings => embeddings;

    public Tensor Layer(int index, Tensor hidden) => encoder[index].forward(hidden);

    public ClipEncoderLayer EncoderLayer(int index) => encoder[index];

    public Tensor FinalLayerNorm(Tensor hidden) => finalLayerNorm.forward(hidden);
}
