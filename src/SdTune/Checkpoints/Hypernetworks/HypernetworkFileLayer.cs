using static TorchSharp.torch;

namespace SdTune.Checkpoints.Hypernetworks;

/// <summary>
/// One width of an A1111 hypernetwork file: the state dicts of its key and value modules (<c>linear.{i}.weight</c>,
/// <c>linear.{i}.bias</c>, in file order).
/// </summary>
/// <param name="Width">The context width (the file's integer key).</param>
/// <param name="Key">The key module's state dict.</param>
/// <param name="Value">The value module's state dict.</param>
public sealed record HypernetworkFileLayer(long Width, IReadOnlyList<KeyValuePair<string, Tensor>> Key, IReadOnlyList<KeyValuePair<string, Tensor>> Value);
