using static TorchSharp.torch;

namespace SdTune.Pipelines.Control;

/// <summary>What the active controls add to one UNet call (null parts: nothing to add).</summary>
/// <param name="Down">The summed ControlNet residuals per skip connection (the UNet's <c>downBlockAdditionalResiduals</c>).</param>
/// <param name="Mid">The summed ControlNet residual of the mid block.</param>
/// <param name="Intrablock">The summed T2I-Adapter features (the UNet's <c>downIntrablockAdditionalResiduals</c>).</param>
internal sealed record ControlResiduals(IReadOnlyList<Tensor>? Down, Tensor? Mid, IReadOnlyList<Tensor>? Intrablock)
{
    /// <summary>Nothing to add.</summary>
    public static ControlResiduals None { get; } = new(null, null, null);
}
