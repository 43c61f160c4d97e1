using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>What one checkpointed call needs in backward: the block, its inputs, which need gradients, and the RNG state.</summary>
/// <param name="Block">The block body (never itself checkpointing).</param>
/// <param name="InputCount">How many tensor inputs (possibly null) follow the call among the apply() arguments.</param>
/// <param name="InputNeedsGradient">Per input: whether the outer graph wants its gradient.</param>
/// <param name="RngState">The CPU generator state when forward started; null when not preserved.</param>
/// <param name="ArgumentCount">Number of apply() arguments (the call, the inputs, the optional anchor).</param>
internal sealed record CheckpointedCall(
    Func<Tensor?[], Tensor[]> Block,
    int InputCount,
    bool[] InputNeedsGradient,
    byte[]? RngState,
    int ArgumentCount);
