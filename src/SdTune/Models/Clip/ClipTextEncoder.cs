using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>
/// What the CLIP text encoders share: the forward pass, clip-skip encoding, the pooled-token rule and
/// weight loading under transformers' state-dict names. See <see cref="ClipTextModel"/> and
/// <see cref="ClipTextModelWithProjection"/>.
/// </summary>
public abstract class ClipTextEncoder : nn.Module<Tensor, ClipTextOutput>
{
    /// <summary>
    /// The <c>eos_token_id</c> that transformers treats as a placeholder: configs written with it (all the
    /// published Stable Diffusion ones) pool at the largest id instead of searching for the eos id.
    /// </summary>
    private const int LegacyEosTokenId = 2;

    private bool gradientCheckpointing;

    private protected ClipTextEncoder(string name, ClipTextConfig config)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
    }

    /// <summary>
    /// State-dict names a checkpoint may carry that this model deliberately does not have:
    /// <c>text_model.embeddings.position_ids</c>, a constant arange buffer that transformers &lt; 4.31 and
    /// the original SD checkpoints saved and current transformers does not (non-persistent).
    /// </summary>
    public static IReadOnlyList<string> IgnorableKeys { get; } = ["text_model.embeddings.position_ids"];

    /// <summary>The architecture this model was built from.</summary>
    public ClipTextConfig Config { get; }

    /// <summary>
    /// Gradient checkpointing of every encoder layer: activations are recomputed in backward instead of kept. Takes
    /// effect only in training mode with gradient recording on; gradients are those of the plain pass (see
    /// <see cref="Layers.GradientCheckpoint"/>). Off by default.
    /// </summary>
    public bool GradientCheckpointing
    {
        get => gradientCheckpointing;
        set
        {
            for (var i = 0; i < TextModel.LayerCount; i++)
            {
                TextModel.EncoderLayer(i).GradientCheckpointing = value;
            }

            gradientCheckpointing = value;
        }
    }

    private protected abstract ClipTextTransformer TextModel { get; }

    /// <summary>
    /// The token-embedding table (<c>text_model.embeddings.token_embedding</c>). Textual inversion hooks its output
    /// to splice learned vectors in at placeholder positions; its weight is also where new tokens get their rows.
    /// </summary>
    public Embedding TokenEmbedding => TextModel.TokenEmbedding;

    /// <summary>Whether a checkpoint name (relative to the model) may be skipped when loading: see <see cref="IgnorableKeys"/>.</summary>
    public static bool IsIgnorableKey(string name) => IgnorableKeys.Contains(name, StringComparer.Ordinal);

    /// <summary>Runs the encoder on token ids and returns every output.</summary>
    /// <param name="inputIds">(B, S) integer token ids, S ≤ max_position_embeddings (77 for SD).</param>
    public override ClipTextOutput forward(Tensor inputIds)
    {
        CheckInput(inputIds);
        var model = TextModel;
        using var scope = NewDisposeScope();
        var hiddenStates = new List<Tensor>(model.LayerCount + 1) { model.Embed(inputIds) };
        for (var i = 0; i < model.LayerCount; i++)
        {
            hiddenStates.Add(model.Layer(i, hiddenStates[^1]));
        }

        var last = model.FinalLayerNorm(hiddenStates[^1]);
        var index = PooledTokenIndex(inputIds).to(last.device);
        var pooled = last.gather(1, index.view(-1, 1, 1).expand(-1, 1, last.shape[2])).squeeze(1);
        var textEmbeds = Project(pooled);
        return new ClipTextOutput(
            last.MoveToOuterDisposeScope(),
            [.. hiddenStates.Select(h => h.MoveToOuterDisposeScope())],
            pooled.MoveToOuterDisposeScope(),
            textEmbeds?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The conditioning tensor for a UNet, with "clip skip": the output of the layer
    /// <paramref name="clipSkip"/> − 1 layers before the last, optionally through the final LayerNorm.
    /// Runs only the layers it needs.
    /// </summary>
    /// <remarks>
    /// <para><paramref name="clipSkip"/> follows A1111's "Clip skip" setting: 1 = the last layer (plain
    /// <c>last_hidden_state</c> when <paramref name="applyFinalLayerNorm"/>), 2 = the penultimate layer,
    /// i.e. <c>hidden_states[-clipSkip]</c>. diffusers' pipeline argument <c>clip_skip=k</c> means
    /// <c>hidden_states[-(k+1)]</c>, so diffusers <c>k</c> equals <paramref name="clipSkip"/> = k + 1 here.</para>
    /// <para>SD 1.x (A1111 and diffusers) apply the final LayerNorm to the skipped state
    /// (<paramref name="applyFinalLayerNorm"/> = true); SDXL feeds <c>hidden_states[-2]</c> of both encoders
    /// without it (clipSkip 2, applyFinalLayerNorm false). SD 2.x's 23-layer encoder already ends one
    /// layer before OpenCLIP-H's last, so its default is clipSkip 1 with the LayerNorm.</para>
    /// </remarks>
    /// <param name="inputIds">(B, S) integer token ids.</param>
    /// <param name="clipSkip">1 ≤ clipSkip ≤ num_hidden_layers.</param>
    /// <param name="applyFinalLayerNorm">Apply <c>final_layer_norm</c> to the selected state.</param>
    /// <returns>(B, S, hidden), owned by the caller (or the caller's dispose scope).</returns>
    public Tensor Encode(Tensor inputIds, int clipSkip = 1, bool applyFinalLayerNorm = true)
    {
        CheckInput(inputIds);
        CheckClipSkip(clipSkip);
        var model = TextModel;
        using var scope = NewDisposeScope();
        var hidden = model.Embed(inputIds);
        for (var i = 0; i < model.LayerCount - (clipSkip - 1); i++)
        {
            hidden = model.Layer(i, hidden);
        }

        return (applyFinalLayerNorm ? model.FinalLayerNorm(hidden) : hidden).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Picks the clip-skip state from a full <see cref="forward"/> result (when the pooled output is needed
    /// too, as for SDXL), with the same convention as <see cref="Encode"/>.
    /// </summary>
    /// <param name="output">A result of this model's forward pass.</param>
    /// <param name="clipSkip">1 ≤ clipSkip ≤ num_hidden_layers; <c>HiddenStates[^clipSkip]</c> is taken.</param>
    /// <param name="applyFinalLayerNorm">Apply <c>final_layer_norm</c> to the selected state.</param>
    /// <returns>A new tensor (B, S, hidden) when the LayerNorm is applied, otherwise an alias of the output's hidden state.</returns>
    public Tensor SelectHiddenState(ClipTextOutput output, int clipSkip = 1, bool applyFinalLayerNorm = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        CheckClipSkip(clipSkip);
        if (output.HiddenStates.Count != TextModel.LayerCount + 1)
        {
            throw new ArgumentException($"The output has {output.HiddenStates.Count} hidden states; this model produces {TextModel.LayerCount + 1}.", nameof(output));
        }

        var hidden = output.HiddenStates[^clipSkip];
        return applyFinalLayerNorm ? TextModel.FinalLayerNorm(hidden) : hidden.alias();
    }

    /// <summary>
    /// The sequence position pooled for <see cref="ClipTextOutput.PooledOutput"/>, per batch row (B,) int64.
    /// </summary>
    /// <remarks>
    /// The reference takes the end-of-text token. With the config's <c>eos_token_id</c> set to a real id,
    /// this is its first occurrence (SD 1.x pads with eos, OpenCLIP pads with 0; either way the first eos
    /// ends the prompt); a row without that id falls back to the largest id. When the config's
    /// <c>eos_token_id</c> is the placeholder 2 or absent (as in the published SD configs), the largest id is
    /// taken, as the original CLIP does: the tokenizer's eos 49407 is the largest id in the vocabulary, and
    /// argmax returns its first occurrence.
    /// </remarks>
    public Tensor PooledTokenIndex(Tensor inputIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        using var scope = NewDisposeScope();
        var largest = inputIds.argmax(-1);
        if (Config.EosTokenId is not { } eos || eos == LegacyEosTokenId)
        {
            return largest.MoveToOuterDisposeScope();
        }

        var isEos = inputIds.eq(eos);
        var firstEos = isEos.to(ScalarType.Int32).argmax(-1);
        return where(isEos.any(-1), firstEos, largest).MoveToOuterDisposeScope();
    }

    /// <summary>The projected pooled output, or null for a model without projection.</summary>
    private protected abstract Tensor? Project(Tensor pooled);

    private void CheckInput(Tensor inputIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (inputIds.dim() != 2)
        {
            throw new ArgumentException($"Token ids must be (batch, sequence); got shape [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        }

        if (inputIds.dtype is not (ScalarType.Int64 or ScalarType.Int32))
        {
            throw new ArgumentException($"Token ids must be int64 or int32; got {inputIds.dtype}.", nameof(inputIds));
        }

        if (inputIds.shape[1] > Config.MaxPositionEmbeddings || inputIds.shape[1] == 0)
        {
            throw new ArgumentException($"Token sequence length {inputIds.shape[1]} is outside 1..{Config.MaxPositionEmbeddings} (max_position_embeddings).", nameof(inputIds));
        }
    }

    private void CheckClipSkip(int clipSkip)
    {
        if (clipSkip < 1 || clipSkip > Config.NumHiddenLayers)
        {
            throw new ArgumentOutOfRangeException(nameof(clipSkip), clipSkip, $"clip skip must be in 1..{Config.NumHiddenLayers} (num_hidden_layers).");
        }
    }
}
