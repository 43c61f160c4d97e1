namespace SdTune.Prompts;

/// <summary>
/// One text-encoder window of a prompt: <see cref="PromptChunker.ChunkTokens"/> token ids (BOS, 75 prompt or padding
/// tokens, EOS), the attention multiplier of each, and the embeddings to splice in.
/// </summary>
/// <param name="Tokens">The token ids, BOS first.</param>
/// <param name="Multipliers">One multiplier per token; 1.0 on BOS, EOS and padding.</param>
/// <param name="Fixes">The textual-inversion embeddings placed in this chunk.</param>
public sealed record PromptChunk(IReadOnlyList<int> Tokens, IReadOnlyList<double> Multipliers, IReadOnlyList<EmbeddingFix> Fixes);
