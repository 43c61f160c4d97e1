using SdTune.Prompts;
using static TorchSharp.torch;

namespace SdTune.Conditioning;

/// <summary>
/// Textual-inversion vectors that prompts reference by name: the conditioner finds the names in a prompt's tokens
/// through <see cref="Index"/> and splices the vectors in at the placeholder tokens. A folder of embedding files is one
/// source; a method that trains an embedding can be another (gradients flow from the context into the vectors it returns).
/// </summary>
public interface IEmbeddingVectors
{
    /// <summary>The names, as token ids of the model's first tokenizer, with their vector counts.</summary>
    EmbeddingTokenIndex Index { get; }

    /// <summary>The vectors of an embedding in <see cref="Index"/> for one encoder.</summary>
    /// <param name="name">The embedding's name.</param>
    /// <param name="encoderKey">The encoder's key (<see cref="ConditioningEncoder.EmbeddingKey"/>).</param>
    /// <returns>[vectors, width].</returns>
    Tensor VectorsFor(string name, string encoderKey);
}
