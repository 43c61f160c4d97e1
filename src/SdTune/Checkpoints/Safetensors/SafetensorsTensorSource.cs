using SdTune.Checkpoints.Inspection;
using static TorchSharp.torch;

namespace SdTune.Checkpoints.Safetensors;

/// <summary>One safetensors file as an <see cref="ITensorSource"/>.</summary>
public sealed class SafetensorsTensorSource : ITensorSource
{
    private readonly SafetensorsFile file;

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    public SafetensorsTensorSource(string path)
    {
        file = SafetensorsFile.Open(path);
        Entries = [.. file.Tensors.Select(t => new TensorEntry(t.Name, t.DType.ToString(), t.Shape))];
    }

    /// <inheritdoc />
    public string Path => file.Path;

    /// <inheritdoc />
    public IReadOnlyList<TensorEntry> Entries { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata => file.Metadata;

    /// <inheritdoc />
    public bool SupportsConcurrentReads => true;

    /// <inheritdoc />
    public bool Contains(string name) => file.Contains(name);

    /// <inheritdoc />
    public Tensor Read(string name) => file.Read(name);

    /// <inheritdoc />
    public void ReadInto(string name, Tensor destination) => file.ReadInto(name, destination);

    /// <inheritdoc />
    public void Dispose() => file.Dispose();
}
