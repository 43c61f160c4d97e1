namespace SdTune.Checkpoints.Pickle;

/// <summary>A tensor rebuilt from a pickle but not read yet: a strided view of a storage.</summary>
internal sealed class DeferredTensor
{
    /// <summary>Checks the view against its storage so nothing is allocated from numbers the file cannot back.</summary>
    public DeferredTensor(StorageReference storage, long storageOffset, long[] shape, long[] stride, Func<string, Exception> error)
    {
        if (shape.Length != stride.Length)
        {
            throw error($"tensor over storage '{storage.Key}' has {shape.Length} sizes but {stride.Length} strides");
        }

        if (storageOffset < 0 || shape.Any(s => s < 0) || stride.Any(s => s < 0))
        {
            throw error($"tensor over storage '{storage.Key}' has a negative offset, size or stride (offset {storageOffset}, size [{string.Join(", ", shape)}], stride [{string.Join(", ", stride)}])");
        }

        try
        {
            long count = 1;
            long lastElement = storageOffset;
            for (var i = 0; i < shape.Length; i++)
            {
                count = checked(count * shape[i]);
                if (shape[i] > 0)
                {
                    lastElement = checked(lastElement + checked((shape[i] - 1) * stride[i]));
                }
            }

            if (count > 0 && lastElement >= storage.ElementCount)
            {
                throw error($"tensor of size [{string.Join(", ", shape)}], stride [{string.Join(", ", stride)}] at offset {storageOffset} reaches element {lastElement} but storage '{storage.Key}' holds {storage.ElementCount} elements");
            }

            ElementCount = count;
        }
        catch (OverflowException)
        {
            throw error($"tensor over storage '{storage.Key}' has a size [{string.Join(", ", shape)}] whose extent overflows 64 bits");
        }

        Storage = storage;
        StorageOffset = storageOffset;
        Shape = shape;
        Stride = stride;
    }

    public StorageReference Storage { get; }

    public long StorageOffset { get; }

    public long[] Shape { get; }

    public long[] Stride { get; }

    public long ElementCount { get; }
}
