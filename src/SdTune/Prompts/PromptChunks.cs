namespace SdTune.Prompts;

/// <summary>A prompt cut into text-encoder chunks; see <see cref="PromptChunker"/>.</summary>
/// <param name="Chunks">The chunks in order (at least one); each is encoded separately and the outputs concatenated.</param>
/// <param name="TokenCount">
/// The prompt's length as the web UI counts it: 75 for every chunk but the last, plus the tokens in the last one.
/// </param>
public sealed record PromptChunks(IReadOnlyList<PromptChunk> Chunks, int TokenCount);
