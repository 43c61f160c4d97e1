namespace SdTune.Prompts;

/// <summary>A textual-inversion embedding found in a token sequence; see <see cref="EmbeddingTokenIndex"/>.</summary>
/// <param name="Name">The embedding's name.</param>
/// <param name="TokenLength">How many prompt tokens its name occupies (these are replaced).</param>
/// <param name="VectorCount">How many vectors it has, i.e. how many placeholder tokens it takes in the chunk.</param>
public readonly record struct EmbeddingMatch(string Name, int TokenLength, int VectorCount);
