using SdTune.Models;
using SdTune.Training.Data;

namespace SdTune.Training;

/// <summary>What a <see cref="Trainer"/> uses besides its configuration; every member is optional.</summary>
public sealed record TrainerServices
{
    /// <summary>The model to train, instead of loading <see cref="TrainingConfig.PretrainedModel"/>; the caller keeps ownership.</summary>
    public StableDiffusionModel? Model { get; init; }

    /// <summary>The training method, instead of the one <see cref="TrainingConfig.Method"/> names; the trainer disposes it.</summary>
    public ITrainingMethod? Method { get; init; }

    /// <summary>Makes sample images and DreamBooth class images; without one, sampling is skipped with a warning.</summary>
    public ISampleImageGenerator? ImageGenerator { get; init; }

    /// <summary>Reads image files; <see cref="ImageFileReader"/> when null.</summary>
    public IImageReader? ImageReader { get; init; }

    /// <summary>Supplies latents (a cache); when null the images are encoded with the VAE every step.</summary>
    public Func<StableDiffusionModel, IImageReader, ILatentSource>? LatentSource { get; init; }

    /// <summary>Receives a report after every optimizer step.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Receives warnings and notes as they happen.</summary>
    public Action<string>? Log { get; init; }
}
