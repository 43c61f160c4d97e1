namespace SdTune.Prompts;

/// <summary>
/// Where an embedding's vectors go in a chunk: they replace the token embeddings at
/// <c>TokenIndex .. TokenIndex + VectorCount - 1</c> of the 77-token sequence (index 0 is the BOS token, so this is the
/// web UI's fix offset + 1).
/// </summary>
/// <param name="TokenIndex">The index of the first placeholder token in the chunk's 77 tokens.</param>
/// <param name="Name">The embedding's name.</param>
/// <param name="VectorCount">How many placeholder tokens (vectors) follow from <see cref="TokenIndex"/>.</param>
public readonly record struct EmbeddingFix(int TokenIndex, string Name, int VectorCount);
