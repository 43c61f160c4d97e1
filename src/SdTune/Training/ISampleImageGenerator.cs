using SdTune.Models;

namespace SdTune.Training;

/// <summary>
/// Makes images with the model as it is at that moment of training: sample images every N steps or epochs, and DreamBooth
/// class images from the base model before training. The trainer hands over the model with the trained weights in place
/// (a LoRA attached, say) and restores its own state afterwards; implementations must not keep references to it.
/// </summary>
public interface ISampleImageGenerator
{
    /// <summary>Generates every job's image and writes it to the job's path.</summary>
    /// <param name="model">The model to sample with (modules in eval mode, no gradients needed).</param>
    /// <param name="jobs">The images to make.</param>
    /// <param name="cancellationToken">Stops between images.</param>
    void Generate(StableDiffusionModel model, IReadOnlyList<SampleImageJob> jobs, CancellationToken cancellationToken = default);
}
