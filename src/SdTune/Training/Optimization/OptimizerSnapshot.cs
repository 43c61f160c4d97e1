using SdTune.Checkpoints.Safetensors;
using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>
/// A snapshot of an optimizer's state: named tensors (moments, step counts as 0-d int64, adaptive scalars as 0-d
/// float64), tagged with the optimizer's name. It owns its tensors. Saved as a safetensors file, so every value
/// survives a round trip exactly.
/// </summary>
public sealed class OptimizerSnapshot : IDisposable
{
    /// <summary>The safetensors metadata key that holds the optimizer's name.</summary>
    public const string OptimizerMetadataKey = "sdtune.optimizer";

    private readonly Dictionary<string, Tensor> tensors;
    private bool disposed;

    /// <summary>Creates a state from tensors it takes ownership of.</summary>
    /// <param name="optimizerName">The optimizer that produced the state.</param>
    /// <param name="tensors">Named tensors, in a stable order.</param>
    public OptimizerSnapshot(string optimizerName, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(optimizerName);
        ArgumentNullException.ThrowIfNull(tensors);
        OptimizerName = optimizerName;
        this.tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (!this.tensors.TryAdd(name, tensor))
            {
                throw new ArgumentException($"Optimizer state entry '{name}' is repeated.", nameof(tensors));
            }
        }
    }

    /// <summary>The optimizer that produced the state (for example "Prodigy").</summary>
    public string OptimizerName { get; }

    /// <summary>The named tensors.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors => tensors;

    /// <summary>Reads a state written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file has no optimizer name in its metadata.</exception>
    public static OptimizerSnapshot Load(string path)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue(OptimizerMetadataKey, out var name) || string.IsNullOrWhiteSpace(name))
        {
            throw new InvalidDataException($"{path}: not an optimizer state (no '{OptimizerMetadataKey}' metadata).");
        }

        return new OptimizerSnapshot(name, file.ReadAll());
    }

    /// <summary>Writes the state to a safetensors file (atomically).</summary>
    public void Save(string path)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        SafetensorsWriter.Save(path, tensors, new Dictionary<string, string> { [OptimizerMetadataKey] = OptimizerName });
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }
    }
}
