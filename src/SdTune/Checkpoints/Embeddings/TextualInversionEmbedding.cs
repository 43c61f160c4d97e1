using static TorchSharp.torch;

namespace SdTune.Checkpoints.Embeddings;

/// <summary>
/// A textual-inversion embedding: one or more learned token vectors, per text encoder. Single-encoder
/// models (SD1 width 768, SD2 width 1024) use <see cref="DefaultEncoderKey"/>; SDXL embeddings carry
/// <c>clip_l</c> (768) and <c>clip_g</c> (1280) rows for its two encoders.
/// </summary>
public sealed class TextualInversionEmbedding : IDisposable
{
    /// <summary>Key of the vectors of a single-encoder embedding.</summary>
    public const string DefaultEncoderKey = "default";

    /// <summary>Creates an embedding; every tensor must be [vectors, width] with the same number of vectors.</summary>
    /// <exception cref="ArgumentException">The shapes disagree or no vectors are given.</exception>
    public TextualInversionEmbedding(string name, IReadOnlyDictionary<string, Tensor> vectors, string format, long? step = null, string? checkpointName = null)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Count == 0)
        {
            throw new ArgumentException($"Embedding '{name}' has no vectors.", nameof(vectors));
        }

        var counts = vectors.Values.Select(v => v.shape.Length == 2 ? v.shape[0] : -1).Distinct().ToList();
        if (counts.Count != 1 || counts[0] < 1)
        {
            throw new ArgumentException($"Embedding '{name}': every encoder's vectors must be [count, width] with the same count; got {string.Join(", ", vectors.Select(v => $"{v.Key} [{string.Join(", ", v.Value.shape)}]"))}.", nameof(vectors));
        }

        Name = name;
        Vectors = vectors;
        Format = format;
        Step = step;
        CheckpointName = checkpointName;
    }

    /// <summary>The name prompts use: the file name without extension (A1111 convention).</summary>
    public string Name { get; }

    /// <summary>[vectors, width] float tensors by encoder key (<see cref="DefaultEncoderKey"/>, <c>clip_l</c>, <c>clip_g</c>).</summary>
    public IReadOnlyDictionary<string, Tensor> Vectors { get; }

    /// <summary>Number of token vectors the embedding stands for in a prompt.</summary>
    public long VectorCount => Vectors.Values.First().shape[0];

    /// <summary>Total width over encoders, as A1111 compares it with the model (768 SD1, 1024 SD2, 2048 SDXL).</summary>
    public long Width => Vectors.Values.Sum(v => v.shape[1]);

    /// <summary>Which file layout it came from (for messages and inspection).</summary>
    public string Format { get; }

    /// <summary>Training step recorded in the file, if any.</summary>
    public long? Step { get; }

    /// <summary>Name of the checkpoint it was trained on, if recorded.</summary>
    public string? CheckpointName { get; }

    /// <summary>The vectors for one encoder of a model, or null when the embedding has none for it.</summary>
    /// <param name="encoderKey"><c>clip_l</c> or <c>clip_g</c> for SDXL; <see cref="DefaultEncoderKey"/> otherwise.</param>
    public Tensor? VectorsFor(string encoderKey) =>
        Vectors.TryGetValue(encoderKey, out var v) ? v
        : encoderKey == DefaultEncoderKey && Vectors.Count == 1 ? Vectors.Values.First()
        : null;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var tensor in Vectors.Values)
        {
            tensor.Dispose();
        }
    }
}
