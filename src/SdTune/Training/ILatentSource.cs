using SdTune.Training.Data;
using TorchSharp;

namespace SdTune.Training;

/// <summary>
/// Where a batch's latents come from. The default, <see cref="VaeLatentSource"/>, loads and encodes the images every
/// step; a cache can serve stored latents instead.
/// </summary>
public interface ILatentSource
{
    /// <summary>
    /// The batch's latents, already multiplied by the VAE scaling factor: float32 (B, C, H/8, W/8) on the training device,
    /// in the order of <see cref="TrainingBatch.Samples"/>, detached from any graph.
    /// </summary>
    /// <param name="batch">The batch.</param>
    /// <param name="generator">The run's generator, for drawing from the latent distribution; part of the resumable state.</param>
    torch.Tensor GetLatents(TrainingBatch batch, torch.Generator generator);
}
