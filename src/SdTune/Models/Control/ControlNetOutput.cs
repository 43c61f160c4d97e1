using static TorchSharp.torch;

namespace SdTune.Models.Control;

/// <summary>
/// What a <see cref="ControlNetModel"/> adds to a UNet: pass <see cref="DownBlockResiduals"/> as the UNet's
/// <c>downBlockAdditionalResiduals</c> and <see cref="MidBlockResidual"/> as its <c>midBlockAdditionalResidual</c>.
/// Disposing disposes every tensor.
/// </summary>
/// <param name="DownBlockResiduals">One residual per skip connection of the UNet's down path, already scaled.</param>
/// <param name="MidBlockResidual">The residual of the mid block's output, already scaled.</param>
public sealed record ControlNetOutput(IReadOnlyList<Tensor> DownBlockResiduals, Tensor MidBlockResidual) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var residual in DownBlockResiduals)
        {
            residual.Dispose();
        }

        MidBlockResidual.Dispose();
    }
}
