namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// Reads a PyTorch <c>.ckpt</c> / <c>.pt</c> / <c>.bin</c> file (what <c>torch.save</c> writes: the zip format, or the
/// legacy stream format) with a restricted unpickler that cannot run code.
/// </summary>
public static class TorchPickleFile
{
    /// <summary>
    /// Loads the whole object tree of a checkpoint.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <returns>
    /// The unpickled object: <see cref="PickleDictionary"/> (dict and OrderedDict, insertion order kept),
    /// <c>List&lt;object?&gt;</c>, <see cref="PickleTuple"/>, <see cref="PickleSet"/>, <c>string</c>, <c>long</c>
    /// (or <see cref="System.Numerics.BigInteger"/> beyond 64 bits), <c>double</c>, <c>bool</c>, <c>byte[]</c>,
    /// null for None, <see cref="TorchSharp.torch.Tensor"/> on the CPU, and <see cref="PickleGlobal"/> /
    /// <see cref="PickleObject"/> placeholders for allow-listed metadata. Tensors sharing a storage share memory.
    /// New tensors belong to the caller's current dispose scope, if any.
    /// </returns>
    /// <exception cref="CheckpointFormatException">
    /// The file is corrupt or truncated, or names a Python global outside the allow-list (the message names it).
    /// </exception>
    public static object? Load(string path)
    {
        using var container = TorchCheckpointContainer.Open(path);
        using var materializer = new TensorMaterializer(container);
        return materializer.MaterializeTree(container.Root);
    }
}
