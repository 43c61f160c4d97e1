using SdTune.Models;
using SdTune.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>What a <see cref="ITrainingMethod"/> gets to set itself up.</summary>
public sealed record TrainingContext
{
    /// <summary>The validated configuration.</summary>
    public required TrainingConfig Config { get; init; }

    /// <summary>The model; every weight starts frozen.</summary>
    public required StableDiffusionModel Model { get; init; }

    /// <summary>The type frozen weights are held in (float32, bfloat16 or float16 from <see cref="TrainingConfig.MixedPrecision"/>).</summary>
    public required ScalarType WeightDType { get; init; }

    /// <summary>What the trained model predicts.</summary>
    public required PredictionType PredictionType { get; init; }

    /// <summary>Generates images (DreamBooth class images); null when none is available.</summary>
    public ISampleImageGenerator? ImageGenerator { get; init; }

    /// <summary>Reads the dataset's image files (a method's condition images among them).</summary>
    public IImageReader ImageReader { get; init; } = new ImageFileReader();

    /// <summary>Collects warnings for the user.</summary>
    public required ICollection<string> Warnings { get; init; }

    /// <summary>Casts the UNet and the text encoder(s), frozen until a method unfreezes parts of them, to <see cref="WeightDType"/>.</summary>
    public void CastFrozenWeights()
    {
        Model.Unet.to(WeightDType);
        Model.TextEncoder.to(WeightDType);
        Model.TextEncoder2?.to(WeightDType);
    }
}
