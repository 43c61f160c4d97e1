using TorchSharp;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// Turns lazy tensors into TorchSharp tensors. Each storage is read once; tensors sharing it become views of the
/// same memory (as after <c>torch.load</c>), except non-contiguous ones, which are copied to contiguous tensors.
/// </summary>
internal sealed class TensorMaterializer(TorchCheckpointContainer container) : IDisposable
{
    private readonly Dictionary<string, torch.Tensor> _storages = new(StringComparer.Ordinal);
    private readonly HashSet<string> _exposedStorages = new(StringComparer.Ordinal);

    public torch.Tensor Materialize(DeferredTensor tensor)
    {
        var flat = ReadStorage(tensor.Storage);
        var view = flat.as_strided(tensor.Shape, tensor.Stride, tensor.Storage.ElementOffset + tensor.StorageOffset);
        if (view.is_contiguous())
        {
            return view;
        }

        using (view)
        {
            return view.contiguous();
        }
    }

    /// <summary>
    /// Replaces every lazy tensor (and bare storage, as a flat tensor) in an object tree, in place. The walk is
    /// iterative and visits each container once, so deep or cyclic trees cannot overflow the stack.
    /// </summary>
    public object? MaterializeTree(object? root)
    {
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<object>();
        var result = Convert(root, visited, pending);
        while (pending.Count > 0)
        {
            switch (pending.Pop())
            {
                case List<object?> list:
                    for (var i = 0; i < list.Count; i++)
                    {
                        list[i] = Convert(list[i], visited, pending);
                    }

                    break;
                case PickleTuple tuple:
                    for (var i = 0; i < tuple.Count; i++)
                    {
                        tuple.ReplaceAt(i, Convert(tuple[i], visited, pending));
                    }

                    break;
                case PickleDictionary dict:
                    for (var i = 0; i < dict.Count; i++)
                    {
                        var entry = dict.EntryAt(i);
                        dict.ReplaceAt(i, entry.Key, Convert(entry.Value, visited, pending));
                    }

                    dict.State = Convert(dict.State, visited, pending);
                    break;
                case PickleObject placeholder:
                    placeholder.State = Convert(placeholder.State, visited, pending);
                    Convert(placeholder.Arguments, visited, pending);
                    break;
            }
        }

        return result;
    }

    /// <summary>Disposes the flat storage handles that no returned object refers to (views keep their memory alive).</summary>
    public void Dispose()
    {
        foreach (var (key, flat) in _storages)
        {
            if (!_exposedStorages.Contains(key))
            {
                flat.Dispose();
            }
        }

        _storages.Clear();
    }

    private object? Convert(object? value, HashSet<object> visited, Stack<object> pending)
    {
        switch (value)
        {
            case DeferredTensor tensor:
                return Materialize(tensor);
            case StorageReference storage:
                _exposedStorages.Add(storage.Key);
                var flat = ReadStorage(storage);
                return storage.ElementOffset == 0 && storage.ElementCount == flat.shape[0] ? flat : flat.narrow(0, storage.ElementOffset, storage.ElementCount);
            case List<object?> or PickleTuple or PickleDictionary or PickleObject:
                if (visited.Add(value))
                {
                    pending.Push(value);
                }

                return value;
            default:
                return value;
        }
    }

    private torch.Tensor ReadStorage(StorageReference storage)
    {
        if (!_storages.TryGetValue(storage.Key, out var flat))
        {
            flat = CheckpointErrors.Guard(container.Path, () => container.ReadStorage(storage));
            _storages.Add(storage.Key, flat);
        }

        return flat;
    }
}
