using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>Token embedding plus learned absolute position embedding (transformers' <c>embeddings</c>).</summary>
internal sealed class ClipTextEmbeddings : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "token_embedding")]
    private readonly Embedding tokenEmbedding;

    [ComponentName(Name = "position_embedding")]
    private readonly Embedding positionEmbedding;

    public ClipTextEmbeddings(ClipTextConfig config, Device? device, ScalarType? dtype)
        : base("embeddings")
    {
        tokenEmbedding = nn.Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype);
        positionEmbedding = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>The token-embedding table (a hook on it can replace rows, e.g. for textual inversion).</summary>
    public Embedding TokenEmbedding => tokenEmbedding;

    /// <summary>(B, S) ids to (B, S, hidden).</summary>
    public override Tensor forward(Tensor inputIds)
    {
        // Positions are always 0..S-1, so slicing the table equals looking up an arange; this keeps the
        // (non-persistent) position_ids buffer of the reference out of the module.
        var positions = positionEmbedding.weight!.narrow(0, 0, inputIds.shape[1]);
        return tokenEmbedding.call(inputIds) + positions.unsqueeze(0);
    }
}
