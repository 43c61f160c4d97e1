using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// A PyTorch pickle checkpoint (<c>.ckpt</c>, <c>.pt</c>, <c>.bin</c>; zip or legacy format) as an
/// <see cref="ITensorSource"/>. The object tree is unpickled once, with the restricted unpickler, when the source is
/// opened; each tensor's storage is read from the file only when that tensor is asked for. The usual nesting of
/// trainers is unwrapped as <see cref="TorchCheckpointReader"/> does ("state_dict", "model", "module").
/// </summary>
public sealed class PickleTensorSource : ITensorSource
{

    private readonly TorchCheckpointContainer container;
    private readonly Dictionary<string, DeferredTensor> tensors;

    private PickleTensorSource(TorchCheckpointContainer container, Dictionary<string, DeferredTensor> tensors, List<TensorEntry> entries)
    {
        this.container = container;
        this.tensors = tensors;
        Entries = entries;
    }

    /// <inheritdoc />
    public string Path => container.Path;

    /// <inheritdoc />
    public IReadOnlyList<TensorEntry> Entries { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();

    /// <summary>Opens a checkpoint and indexes the tensors of its state dict; no tensor data is read yet.</summary>
    /// <exception cref="CheckpointFormatException">The file is corrupt, names a refused global, or holds no dictionary of tensors.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static PickleTensorSource Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found.", path);
        }

        var container = TorchCheckpointContainer.Open(path);
        try
        {
            if (container.Root is not PickleDictionary dict)
            {
                throw new CheckpointFormatException(path, $"the checkpoint holds a {container.Root?.GetType().Name ?? "None"}, not a dictionary of tensors");
            }

            dict = TorchCheckpointReader.UnwrapStateDict(dict);

            var tensors = new Dictionary<string, DeferredTensor>(StringComparer.Ordinal);
            var entries = new List<TensorEntry>();
            foreach (var (key, value) in dict)
            {
                if (value is DeferredTensor tensor)
                {
                    var name = key as string ?? throw new CheckpointFormatException(path, $"state dict key {key} is not a string");
                    tensors.Add(name, tensor);
                    entries.Add(new TensorEntry(name, DTypeName(tensor.Storage.Type), tensor.Shape));
                }
            }

            if (entries.Count == 0)
            {
                throw new CheckpointFormatException(path, "the checkpoint's state dict holds no tensors");
            }

            return new PickleTensorSource(container, tensors, entries);
        }
        catch
        {
            container.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public bool Contains(string name) => tensors.ContainsKey(name);

    /// <inheritdoc />
    public Tensor Read(string name)
    {
        var tensor = Find(name);
        using var materializer = new TensorMaterializer(container);
        return materializer.Materialize(tensor);
    }

    /// <inheritdoc />
    public bool SupportsConcurrentReads => false;

    /// <inheritdoc />
    public void ReadInto(string name, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var tensor = Find(name);
        if (!tensor.Shape.SequenceEqual(destination.shape))
        {
            throw new CheckpointFormatException(Path, $"tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}] but the model expects [{string.Join(", ", destination.shape)}].");
        }

        using var noGrad = no_grad();
        using var value = Read(name);
        destination.copy_(value);
    }

    /// <inheritdoc />
    public void Dispose() => container.Dispose();

    private DeferredTensor Find(string name) =>
        tensors.TryGetValue(name, out var tensor) ? tensor : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");

    // Spelled as safetensors spells it, so reports and loaders see one vocabulary whatever the container.
    private static string DTypeName(TorchStorageType type)
    {
        try
        {
            return SafetensorsDTypes.FromScalarType(type.DType).ToString();
        }
        catch (NotSupportedException)
        {
            return type.DType.ToString();
        }
    }
}
