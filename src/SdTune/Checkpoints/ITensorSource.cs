using SdTune.Checkpoints.Inspection;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Checkpoints;

/// <summary>
/// Named tensors that can be read one at a time: a safetensors file, a sharded set of files, a pickle
/// checkpoint. Loaders work against this so a 7 GB checkpoint is never held twice in memory.
/// </summary>
public interface ITensorSource : IDisposable
{
    /// <summary>Where the tensors come from (a file or folder), for messages.</summary>
    string Path { get; }

    /// <summary>Name, type and shape of every tensor, in stored order.</summary>
    IReadOnlyList<TensorEntry> Entries { get; }

    /// <summary>String metadata stored with the tensors (empty when the format has none).</summary>
    IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Whether <see cref="ReadInto"/> may be called from several threads at once (positional file reads).</summary>
    bool SupportsConcurrentReads { get; }

    /// <summary>Whether a tensor of that name exists.</summary>
    bool Contains(string name);

    /// <summary>Reads one tensor into a new CPU tensor.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    Tensor Read(string name);

    /// <summary>Copies one tensor into an existing tensor of the same shape, converting the type if needed.</summary>
    /// <exception cref="CheckpointFormatException">The shapes differ.</exception>
    void ReadInto(string name, Tensor destination);
}
