using SdTune.Models.Clip;
using SdTune.Text;
using static TorchSharp.torch;

namespace SdTune.Conditioning;

/// <summary>
/// One tokenizer and text encoder of a model, and how its output becomes UNet context: which hidden state (clip
/// skip), whether the final LayerNorm is applied, and whether it provides the pooled embedding (SDXL's second encoder).
/// </summary>
/// <param name="encoder">The text encoder.</param>
/// <param name="tokenizer">Its tokenizer (tokens added to it are seen by every later encode).</param>
/// <param name="embeddingKey">The key of this encoder's vectors in a textual-inversion embedding (<c>default</c>, <c>clip_l</c>, <c>clip_g</c>).</param>
/// <param name="clipSkip">A1111's "Clip skip": 1 = the last layer, 2 = the penultimate, …</param>
/// <param name="finalLayerNorm">Apply the final LayerNorm to the selected hidden state (SD 1.x/2.x yes, SDXL no).</param>
/// <param name="providesPooled">This encoder's projected pooled output is the UNet's pooled conditioning (SDXL's OpenCLIP-G).</param>
public sealed class ConditioningEncoder(ClipTextEncoder encoder, ClipTokenizer tokenizer, string embeddingKey, int clipSkip, bool finalLayerNorm, bool providesPooled)
{
    /// <summary>The text encoder.</summary>
    public ClipTextEncoder Encoder { get; } = encoder ?? throw new ArgumentNullException(nameof(encoder));

    /// <summary>The tokenizer.</summary>
    public ClipTokenizer Tokenizer { get; } = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));

    /// <summary>The key of this encoder's vectors in a textual-inversion embedding.</summary>
    public string EmbeddingKey { get; } = string.IsNullOrEmpty(embeddingKey) ? throw new ArgumentException("An embedding key is needed.", nameof(embeddingKey)) : embeddingKey;

    /// <summary>The clip skip its hidden state is taken with (at least 1).</summary>
    public int ClipSkip { get; } = clipSkip >= 1 ? clipSkip : throw new ArgumentOutOfRangeException(nameof(clipSkip), clipSkip, "Clip skip is at least 1.");

    /// <summary>Whether the final LayerNorm is applied to the selected hidden state.</summary>
    public bool FinalLayerNorm => finalLayerNorm;

    /// <summary>Whether this encoder provides the pooled embedding.</summary>
    public bool ProvidesPooled => providesPooled;

    /// <summary>The width of this encoder's hidden states.</summary>
    public long Width => Encoder.Config.HiddenSize;

    /// <summary>The device of the encoder's weights, where token ids are placed.</summary>
    public Device Device => Encoder.TokenEmbedding.weight!.device;

    /// <summary>
    /// Token ids of plain texts, one 77-token row each: start token, the text's tokens cut to 75, end token, padding
    /// (as kohya's trainers tokenize captions: no prompt syntax, no chunks).
    /// </summary>
    /// <param name="texts">The texts.</param>
    /// <returns>(texts, 77) int64 on <see cref="Device"/>.</returns>
    public Tensor TokenIds(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var rows = texts.Select(t => Tokenizer.EncodeForModel(t).InputIds).ToList();
        var width = rows[0].Count;
        return tensor(rows.SelectMany(r => r.Select(id => (long)id)).ToArray(), [rows.Count, width], ScalarType.Int64, Device);
    }

    /// <summary>Encodes token ids to this encoder's part of the context, with gradients if they are being recorded.</summary>
    /// <param name="ids">(B, S) token ids.</param>
    /// <param name="pooled">The projected pooled output (B, projection) when <see cref="ProvidesPooled"/>; null otherwise.</param>
    /// <returns>(B, S, <see cref="Width"/>) in the encoder's dtype.</returns>
    public Tensor Encode(Tensor ids, out Tensor? pooled)
    {
        if (!ProvidesPooled)
        {
            pooled = null;
            return Encoder.Encode(ids, ClipSkip, FinalLayerNorm);
        }

        using var output = Encoder.forward(ids);
        pooled = (output.TextEmbeds ?? output.PooledOutput).clone();
        return Encoder.SelectHiddenState(output, ClipSkip, FinalLayerNorm);
    }
}
