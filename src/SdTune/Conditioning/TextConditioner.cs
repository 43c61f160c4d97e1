using SdTune.Checkpoints.Embeddings;
using SdTune.Models;
using SdTune.Models.Unet;
using SdTune.Prompts;
using static TorchSharp.torch;

namespace SdTune.Conditioning;

/// <summary>
/// The text conditioning of SD 1.x, 2.x and SDXL, for generation and training alike: texts through the tokenizer(s)
/// and text encoder(s) (clip skip, final LayerNorm or not), the encoders' outputs side by side as the UNet's context,
/// SDXL's pooled embedding, and SDXL's size/crop time ids.
/// <list type="bullet">
/// <item><see cref="EncodeCaptions"/>: plain texts in a batch, each cut to 75 tokens (training captions, as kohya's
/// trainers read them: no prompt syntax).</item>
/// <item><see cref="EncodePrompt"/>: AUTOMATIC1111 prompt syntax (emphasis, BREAK, long prompts in chunks,
/// textual-inversion embeddings by name).</item>
/// <item><see cref="EncodeTokenIds"/>: token ids made elsewhere.</item>
/// </list>
/// Gradients are recorded when the caller records them (training the text encoder, or vectors from
/// <see cref="IEmbeddingVectors"/>); wrap calls in <c>no_grad</c> otherwise.
/// </summary>
public sealed partial class TextConditioner
{
    /// <summary>Creates a conditioner over explicit encoders.</summary>
    /// <param name="encoders">One encoder (SD 1.x/2.x) or two (SDXL: CLIP-L then OpenCLIP-G); their contexts are
    /// concatenated in this order.</param>
    /// <param name="embeddings">Textual-inversion vectors prompts may name; null for none.</param>
    public TextConditioner(IReadOnlyList<ConditioningEncoder> encoders, IEmbeddingVectors? embeddings = null)
    {
        ArgumentNullException.ThrowIfNull(encoders);
        if (encoders.Count == 0)
        {
            throw new ArgumentException("At least one text encoder is needed.", nameof(encoders));
        }

        Encoders = [.. encoders];
        Embeddings = embeddings;
        chunkers = [.. Encoders.Select(e => CreateChunker(e, embeddings))];
    }

    /// <summary>The encoders, in the order their contexts are concatenated.</summary>
    public IReadOnlyList<ConditioningEncoder> Encoders { get; }

    /// <summary>The textual-inversion vectors prompts may name, if any.</summary>
    public IEmbeddingVectors? Embeddings { get; }

    /// <summary>The clip skip the encoders use.</summary>
    public int ClipSkip => Encoders[0].ClipSkip;

    /// <summary>The width of the context this model's UNet expects (768 SD1, 1024 SD2, 2048 SDXL).</summary>
    public long ContextWidth => Encoders.Sum(e => e.Width);

    /// <summary>
    /// The conditioner of a model: SD 1.x/2.x encode with the given clip skip through the final LayerNorm; SDXL takes
    /// both encoders' hidden states without it (the penultimate layer unless <paramref name="clipSkip"/> says
    /// otherwise) and the second encoder's projected pooled output.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="clipSkip">A1111's clip skip; null for the model's default (1, SDXL 2).</param>
    /// <param name="embeddings">Textual-inversion vectors prompts may name; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">An SD 1.x/2.x clip skip beyond the text encoder's layers.</exception>
    public static TextConditioner ForModel(StableDiffusionModel model, int? clipSkip = null, IEmbeddingVectors? embeddings = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.TextEncoder2 is { } te2)
        {
            var skip = clipSkip ?? 2;
            return new TextConditioner(
                [new(model.TextEncoder, model.Tokenizer, "clip_l", skip, false, false), new(te2, model.Tokenizer2!, "clip_g", skip, false, true)],
                embeddings);
        }

        var layers = model.TextEncoder.Config.NumHiddenLayers;
        if (clipSkip is { } given && (given < 1 || given > layers))
        {
            throw new ArgumentOutOfRangeException(nameof(clipSkip), given, $"Clip skip must be between 1 and {layers} (the text encoder's layers).");
        }

        return new TextConditioner([new(model.TextEncoder, model.Tokenizer, TextualInversionEmbedding.DefaultEncoderKey, clipSkip ?? 1, true, false)], embeddings);
    }

    /// <summary>The embedding widths an embedding file must have for <paramref name="model"/>, per encoder key.</summary>
    /// <param name="model">The model.</param>
    public static IReadOnlyDictionary<string, long> EmbeddingWidths(StableDiffusionModel model) =>
        ForModel(model).Encoders.ToDictionary(e => e.EmbeddingKey, e => e.Width, StringComparer.Ordinal);

    /// <summary>Encodes plain texts (no prompt syntax), each cut to 75 tokens: context (B, 77, width) and pooled (B, projection).</summary>
    /// <param name="texts">The captions.</param>
    public TextConditioning EncodeCaptions(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0)
        {
            throw new ArgumentException("No texts to encode.", nameof(texts));
        }

        using var scope = NewDisposeScope();
        return EncodeTokenIds([.. Encoders.Select(e => e.TokenIds(texts))]).MoveToOuterDisposeScope();
    }

    /// <summary>Encodes token ids, one (B, S) tensor per encoder, to the context and pooled embedding.</summary>
    /// <param name="ids">The ids for each of <see cref="Encoders"/>.</param>
    public TextConditioning EncodeTokenIds(IReadOnlyList<Tensor> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count != Encoders.Count)
        {
            throw new ArgumentException($"{ids.Count} token tensors for {Encoders.Count} text encoders.", nameof(ids));
        }

        using var scope = NewDisposeScope();
        Tensor? pooled = null;
        var contexts = new List<Tensor>(Encoders.Count);
        for (var i = 0; i < Encoders.Count; i++)
        {
            contexts.Add(Encoders[i].Encode(ids[i].to(Encoders[i].Device), out var encoderPooled));
            pooled ??= encoderPooled;
        }

        return new TextConditioning(Concat(contexts), pooled).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The UNet's inputs from text conditioning: the context and, where the model has a pooled embedding (SDXL),
    /// the pooled embedding and the time ids of <paramref name="sizes"/>, all in <paramref name="dtype"/>.
    /// </summary>
    /// <param name="text">The text conditioning of the batch.</param>
    /// <param name="sizes">One size conditioning per batch row (ignored without a pooled embedding).</param>
    /// <param name="dtype">The UNet's dtype.</param>
    public static UNetConditioning ForUnet(TextConditioning text, IReadOnlyList<SizeConditioning> sizes, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sizes);
        var context = text.Context.to(dtype);
        if (text.Pooled is not { } pooled)
        {
            return new UNetConditioning(context, null);
        }

        if (sizes.Count != pooled.shape[0])
        {
            throw new ArgumentException($"{sizes.Count} size conditionings for a batch of {pooled.shape[0]}.", nameof(sizes));
        }

        return new UNetConditioning(context, new UNetAddedConditions(pooled.to(dtype), SizeConditioning.TimeIds(sizes, pooled.device).to(dtype)));
    }

    private static Tensor Concat(List<Tensor> contexts) => contexts.Count == 1 ? contexts[0] : cat(contexts, -1);
}
