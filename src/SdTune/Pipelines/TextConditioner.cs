using SdTune.Checkpoints.Embeddings;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Prompts;
using SdTune.Text;
using static TorchSharp.torch;

namespace SdTune.Pipelines;

/// <summary>
/// Turns prompt text (A1111 syntax: emphasis, BREAK, embeddings by name, prompts longer than 75 tokens) into UNet
/// conditioning, the way AUTOMATIC1111 does: the text is split into 75-token chunks (with comma backtracking),
/// each chunk is encoded separately as [BOS] + 75 + [EOS], embedding vectors are spliced in at their placeholder
/// tokens, the emphasis multipliers are applied with the "Original" mean-restoring rule per chunk, and the chunk
/// outputs are concatenated. SDXL encodes with both text encoders (penultimate layer, no final LayerNorm),
/// concatenates their channels, and takes the pooled embedding of the first chunk.
/// </summary>
public sealed class TextConditioner
{
    private readonly List<Slot> slots = [];

    /// <summary>Creates the conditioner for <paramref name="model"/>.</summary>
    /// <param name="model">The model whose text encoders and tokenizers are used.</param>
    /// <param name="embeddings">Textual-inversion embeddings available by name; <see cref="EmbeddingLibrary.Empty"/> for none.</param>
    /// <param name="clipSkip">A1111's "Clip skip" (1 = last layer) for SD 1.x/2.x; SDXL always uses the penultimate layer.</param>
    public TextConditioner(StableDiffusionModel model, EmbeddingLibrary embeddings, int clipSkip = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentOutOfRangeException.ThrowIfLessThan(clipSkip, 1);
        Embeddings = embeddings;
        if (model.Architecture == SdArchitecture.SdxlBase)
        {
            slots.Add(new Slot(model.TextEncoder, model.Tokenizer, "clip_l", 2, false, false, embeddings));
            slots.Add(new Slot(model.TextEncoder2!, model.Tokenizer2!, "clip_g", 2, false, true, embeddings));
        }
        else
        {
            if (clipSkip > model.TextEncoder.Config.NumHiddenLayers)
            {
                throw new ArgumentOutOfRangeException(nameof(clipSkip), clipSkip, $"Clip skip must be between 1 and {model.TextEncoder.Config.NumHiddenLayers} (the text encoder's layers).");
            }

            slots.Add(new Slot(model.TextEncoder, model.Tokenizer, TextualInversionEmbedding.DefaultEncoderKey, clipSkip, true, false, embeddings));
        }
    }

    /// <summary>The embeddings prompts may reference.</summary>
    public EmbeddingLibrary Embeddings { get; }

    /// <summary>The width of the context this model's UNet expects (768 SD1, 1024 SD2, 2048 SDXL).</summary>
    public long ContextWidth => slots.Sum(s => s.Encoder.Config.HiddenSize);

    /// <summary>The embedding widths an embedding file must have for this model, per encoder key.</summary>
    public static IReadOnlyDictionary<string, long> EmbeddingWidths(StableDiffusionModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Architecture == SdArchitecture.SdxlBase
            ? new Dictionary<string, long> { ["clip_l"] = model.TextEncoder.Config.HiddenSize, ["clip_g"] = model.TextEncoder2!.Config.HiddenSize }
            : new Dictionary<string, long> { [TextualInversionEmbedding.DefaultEncoderKey] = model.TextEncoder.Config.HiddenSize };
    }

    /// <summary>How many 77-token chunks <paramref name="text"/> needs.</summary>
    public int ChunkCount(string text) => slots[0].Chunker.Chunk(text).Chunks.Count;

    /// <summary>Encodes <paramref name="text"/>, padded with empty chunks to <paramref name="chunkCount"/> chunks if longer.</summary>
    /// <param name="text">Prompt text with emphasis/BREAK/embedding names; extra-network tags already removed.</param>
    /// <param name="chunkCount">At least the text's own chunk count (empty chunks are appended, as A1111 pads cond/uncond).</param>
    public TextConditioning Encode(string text, int chunkCount = 0)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var contexts = new List<Tensor>();
        Tensor? pooled = null;
        int? chunks = null;
        foreach (var slot in slots)
        {
            var prompt = slot.Chunker.Chunk(text);
            var list = prompt.Chunks.ToList();
            while (list.Count < chunkCount)
            {
                list.Add(slot.Chunker.EmptyChunk());
            }

            if (chunks is { } expected && expected != list.Count)
            {
                throw new InvalidOperationException($"The two tokenizers split the prompt into {expected} and {list.Count} chunks.");
            }

            chunks = list.Count;
            var hidden = new List<Tensor>();
            var multipliers = new List<float>();
            for (var i = 0; i < list.Count; i++)
            {
                hidden.Add(slot.EncodeChunk(list[i], out var chunkPooled));
                multipliers.AddRange(list[i].Multipliers.Select(m => (float)m));
                if (i == 0 && chunkPooled is not null)
                {
                    pooled = chunkPooled;
                }
            }

            var z = hidden.Count == 1 ? hidden[0] : cat(hidden, 1);
            var weights = tensor(multipliers.ToArray(), [1, multipliers.Count], ScalarType.Float32, z.device);
            contexts.Add(multipliers.TrueForAll(m => m == 1f) ? z : EmphasisWeighting.ApplyOriginal(z, weights.to(z.dtype)));
        }

        var context = contexts.Count == 1 ? contexts[0] : cat(contexts, -1);
        return new TextConditioning(context.MoveToOuterDisposeScope(), pooled?.MoveToOuterDisposeScope());
    }

    /// <summary>All-zero conditioning of <paramref name="chunkCount"/> chunks (SDXL's empty negative prompt).</summary>
    public TextConditioning Zeros(int chunkCount, ScalarType dtype, Device device) =>
        new(zeros([1, 77L * chunkCount, ContextWidth], dtype, device),
            slots.Any(s => s.ProvidesPooled) ? zeros([1, slots.First(s => s.ProvidesPooled).Encoder.Config.ProjectionDim], dtype, device) : null);

    private sealed class Slot
    {
        private readonly EmbeddingLibrary embeddings;

        public Slot(ClipTextEncoder encoder, ClipTokenizer tokenizer, string embeddingKey, int clipSkip, bool finalNorm, bool providesPooled, EmbeddingLibrary embeddings)
        {
            Encoder = encoder;
            EmbeddingKey = embeddingKey;
            ClipSkip = clipSkip;
            FinalNorm = finalNorm;
            ProvidesPooled = providesPooled;
            this.embeddings = embeddings;
            var padding = tokenizer.Padding == ClipPadding.Zero ? 0 : (int?)null;
            int? comma = tokenizer.TryGetTokenId(",</w>", out var commaId) ? commaId : null;
            Chunker = new PromptChunker(
                t => tokenizer.Encode(t), tokenizer.BosTokenId, tokenizer.EosTokenId, padding, comma,
                findEmbedding: embeddings.Index.Count > 0 ? embeddings.Index.FindAt : null);
        }

        public ClipTextEncoder Encoder { get; }

        public string EmbeddingKey { get; }

        public int ClipSkip { get; }

        public bool FinalNorm { get; }

        public bool ProvidesPooled { get; }

        public PromptChunker Chunker { get; }

        public Tensor EncodeChunk(PromptChunk chunk, out Tensor? pooled)
        {
            var device = Encoder.TokenEmbedding.weight!.device;
            using var ids = tensor(chunk.Tokens.Select(t => (long)t).ToArray(), [1, chunk.Tokens.Count], ScalarType.Int64, device);
            var remover = chunk.Fixes.Count == 0 ? null : Encoder.TokenEmbedding.register_forward_hook((_, _, output) => Splice(output, chunk.Fixes));
            try
            {
                if (!ProvidesPooled)
                {
                    pooled = null;
                    return Encoder.Encode(ids, ClipSkip, FinalNorm);
                }

                using var output = Encoder.forward(ids);
                pooled = (output.TextEmbeds ?? output.PooledOutput).clone();
                return Encoder.SelectHiddenState(output, ClipSkip, FinalNorm);
            }
            finally
            {
                remover?.remove();
            }
        }

        private Tensor Splice(Tensor tokenEmbeddings, IReadOnlyList<EmbeddingFix> fixes)
        {
            var edited = tokenEmbeddings.clone();
            foreach (var fix in fixes)
            {
                var vectors = embeddings.Embeddings[fix.Name].VectorsFor(EmbeddingKey)!;
                edited[0].narrow(0, fix.TokenIndex, fix.VectorCount).copy_(vectors.narrow(0, 0, fix.VectorCount).to(edited.dtype, edited.device));
            }

            return edited;
        }
    }
}
