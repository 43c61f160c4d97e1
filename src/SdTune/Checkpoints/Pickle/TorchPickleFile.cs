using SdTune.IO;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// Reads a PyTorch <c>.ckpt</c> / <c>.pt</c> / <c>.bin</c> file (what <c>torch.save</c> writes: the zip format, or the
/// legacy stream format) with a restricted unpickler that cannot run code.
/// </summary>
/// <remarks>
/// Allowed globals: <c>collections.OrderedDict</c>, <c>torch._utils._rebuild_tensor(_v2)</c>,
/// <c>torch._utils._rebuild_parameter(_with_state)</c>, the <c>torch.*Storage</c> classes, <c>torch.float32</c>-style
/// dtypes, <c>torch.Size</c>, <c>_codecs.encode</c> (bytes in protocol 2) and <c>set</c>/<c>frozenset</c>; each is
/// interpreted by the reader, never called. Metadata that Lightning-trained SD checkpoints carry
/// (<c>pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint</c>, <c>numpy.dtype</c>, numpy arrays) is kept
/// as inert <see cref="PickleGlobal"/>/<see cref="PickleObject"/> placeholders rather than refused, so those files
/// load; numpy scalars become .NET numbers. Every other global (<c>os.system</c>, <c>builtins.eval</c>,
/// <c>subprocess.Popen</c>, ...) makes loading fail with a <see cref="CheckpointFormatException"/> naming it.
/// </remarks>
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
