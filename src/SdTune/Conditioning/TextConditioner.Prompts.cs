using SdTune.Prompts;
using SdTune.Text;
using static TorchSharp.torch;

namespace SdTune.Conditioning;

/// <summary>
/// AUTOMATIC1111 prompts: the text is split into 75-token chunks (with comma backtracking), each chunk is encoded
/// separately as [BOS] + 75 + [EOS], embedding vectors are spliced in at their placeholder tokens, the emphasis
/// multipliers are applied with the "Original" mean-restoring rule per chunk, and the chunk outputs are concatenated.
/// With two encoders the pooled embedding is that of the first chunk.
/// </summary>
public sealed partial class TextConditioner
{
    private readonly PromptChunker[] chunkers;

    /// <summary>How many 77-token chunks the prompt <paramref name="text"/> needs.</summary>
    /// <param name="text">Prompt text with emphasis/BREAK/embedding names.</param>
    public int ChunkCount(string text) => chunkers[0].Chunk(text).Chunks.Count;

    /// <summary>Encodes a prompt, padded with empty chunks to <paramref name="chunkCount"/> chunks if longer: context (1, 77·chunks, width).</summary>
    /// <param name="text">Prompt text with emphasis/BREAK/embedding names; extra-network tags already removed.</param>
    /// <param name="chunkCount">At least the text's own chunk count (empty chunks are appended, as A1111 pads cond/uncond).</param>
    public TextConditioning EncodePrompt(string text, int chunkCount = 0)
    {
        using var scope = NewDisposeScope();
        var contexts = new List<Tensor>();
        Tensor? pooled = null;
        int? chunks = null;
        for (var e = 0; e < Encoders.Count; e++)
        {
            var list = chunkers[e].Chunk(text).Chunks.ToList();
            while (list.Count < chunkCount)
            {
                list.Add(chunkers[e].EmptyChunk());
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
                hidden.Add(EncodeChunk(Encoders[e], list[i], out var chunkPooled));
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

        return new TextConditioning(Concat(contexts), pooled).MoveToOuterDisposeScope();
    }

    /// <summary>All-zero conditioning of <paramref name="chunkCount"/> chunks (SDXL's empty negative prompt).</summary>
    /// <param name="chunkCount">The number of chunks.</param>
    /// <param name="dtype">The dtype.</param>
    /// <param name="device">The device.</param>
    public TextConditioning Zeros(int chunkCount, ScalarType dtype, Device device) =>
        new(zeros([1, 77L * chunkCount, ContextWidth], dtype, device),
            Encoders.FirstOrDefault(e => e.ProvidesPooled) is { } p ? zeros([1, p.Encoder.Config.ProjectionDim], dtype, device) : null);

    private static PromptChunker CreateChunker(ConditioningEncoder encoder, IEmbeddingVectors? embeddings)
    {
        var tokenizer = encoder.Tokenizer;
        var padding = tokenizer.Padding == ClipPadding.Zero ? 0 : (int?)null;
        int? comma = tokenizer.TryGetTokenId(",</w>", out var commaId) ? commaId : null;
        return new PromptChunker(
            t => tokenizer.Encode(t), tokenizer.BosTokenId, tokenizer.EosTokenId, padding, comma,
            findEmbedding: embeddings is { Index.Count: > 0 } ? embeddings.Index.FindAt : null);
    }

    private Tensor EncodeChunk(ConditioningEncoder encoder, PromptChunk chunk, out Tensor? pooled)
    {
        using var ids = tensor(chunk.Tokens.Select(t => (long)t).ToArray(), [1, chunk.Tokens.Count], ScalarType.Int64, encoder.Device);
        var remover = chunk.Fixes.Count == 0 ? null : encoder.Encoder.TokenEmbedding.register_forward_hook((_, _, output) => Splice(output, encoder.EmbeddingKey, chunk.Fixes));
        try
        {
            return encoder.Encode(ids, out pooled);
        }
        finally
        {
            remover?.remove();
        }
    }

    /// <summary>The token embeddings with each embedding's vectors in place of its placeholder tokens.</summary>
    private Tensor Splice(Tensor tokenEmbeddings, string encoderKey, IReadOnlyList<EmbeddingFix> fixes)
    {
        var edited = tokenEmbeddings.clone();
        foreach (var fix in fixes)
        {
            var vectors = Embeddings!.VectorsFor(fix.Name, encoderKey);
            edited[0].narrow(0, fix.TokenIndex, fix.VectorCount).copy_(vectors.narrow(0, 0, fix.VectorCount).to(edited.dtype, edited.device));
        }

        return edited;
    }
}
