using SdTune.IO;
using TorchSharp;

namespace SdTune.Checkpoints.Pickle;

/// <summary>Reads the weights (state dict) of a PyTorch pickle checkpoint, safely.</summary>
public static class TorchCheckpointReader
{
    // Where trainers nest the weights: Lightning/CompVis "state_dict", others "model" or "module" (DDP).
    private static readonly string[] WrapperKeys = ["state_dict", "model", "module"];

    /// <summary>
    /// Reads the tensors of a checkpoint's state dict in file order. The usual nesting is unwrapped: while the
    /// dictionary has a "state_dict", "model" or "module" entry that is itself a dictionary, that entry is used.
    /// Non-tensor entries of the state dict are skipped, and only the chosen tensors are read from disk.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <returns>Name/tensor pairs in the order the file lists them; tensors are on the CPU.</returns>
    /// <exception cref="CheckpointFormatException">
    /// The file is corrupt, names a refused global, or holds no dictionary of tensors.
    /// </exception>
    public static IReadOnlyList<KeyValuePair<string, torch.Tensor>> ReadStateDict(string path)
    {
        using var container = TorchCheckpointContainer.Open(path);
        if (container.Root is not PickleDictionary dict)
        {
            throw new CheckpointFormatException(path, $"the checkpoint holds a {container.Root?.GetType().Name ?? "None"}, not a dictionary of tensors");
        }

        dict = UnwrapStateDict(dict);

        using var materializer = new TensorMaterializer(container);
        var result = new List<KeyValuePair<string, torch.Tensor>>(dict.Count);
        try
        {
            foreach (var (key, value) in dict)
            {
                if (value is DeferredTensor tensor)
                {
                    var name = key as string ?? throw new CheckpointFormatException(path, $"state dict key {key} is not a string");
                    result.Add(new(name, materializer.Materialize(tensor)));
                }
            }
        }
        catch
        {
            foreach (var (_, tensor) in result)
            {
                tensor.Dispose();
            }

            throw;
        }

        return result.Count > 0 ? result : throw new CheckpointFormatException(path, "the checkpoint's state dict holds no tensors");
    }

    /// <summary>
    /// The dictionary holding the weights: while <paramref name="dict"/> has a "state_dict", "model" or "module"
    /// entry that is itself a dictionary (Lightning/CompVis, DDP and other trainers' nesting), that entry.
    /// </summary>
    internal static PickleDictionary UnwrapStateDict(PickleDictionary dict)
    {
        for (var depth = 0; depth < 8; depth++)
        {
            var inner = WrapperKeys.Select(key => dict.TryGetValue(key, out var value) ? value as PickleDictionary : null).FirstOrDefault(d => d is not null);
            if (inner is null)
            {
                break;
            }

            dict = inner;
        }

        return dict;
    }
}
