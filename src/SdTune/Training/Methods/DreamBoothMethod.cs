using System.Globalization;
using SdTune.Models;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// DreamBooth as a full fine-tune: every UNet weight is trained (float32), and with <c>train_text_encoder</c> the text
/// encoder(s) too, until <c>stop_text_encoder_training</c>. With prior preservation the batch holds the instance examples
/// then the class examples, and the loss is <c>instance + prior_loss_weight · prior</c>. When the class folder holds
/// fewer than <c>num_class_images</c> images, the missing ones are generated with the base model through the
/// <see cref="ISampleImageGenerator"/>. Output: a diffusers folder and/or a single-file checkpoint.
/// </summary>
public sealed class DreamBoothMethod : ITrainingMethod
{
    /// <summary>Also train the text encoder(s), <c>train_text_encoder</c> (shared with fine-tuning).</summary>
    public static readonly TrainingOption<bool> TrainTextEncoder = FullModelTraining.TrainTextEncoder;

    /// <summary>
    /// Stop training the text encoder after this point, <c>stop_text_encoder_training</c>: a value in (0, 1) is a fraction
    /// of the total steps, a value of 1 or more a step count; unset trains it to the end (shared with fine-tuning).
    /// </summary>
    public static readonly TrainingOption<double?> StopTextEncoderTraining = FullModelTraining.StopTextEncoderTraining;

    /// <summary>Output forms, <c>save_model_as</c>: "diffusers", "safetensors" (single file), or both comma-separated (shared with fine-tuning).</summary>
    public static readonly TrainingOption<string> SaveModelAs = FullModelTraining.SaveModelAs;

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "dreambooth",
        Summary = "DreamBooth: fine-tune the UNet (and optionally the text encoder) with prior preservation.",
        Create = () => new DreamBoothMethod(),
        Options = FullModelTraining.Options,
        Trains = FullModelTraining.Trains,
        Output = TrainedOutput.Model,
        Benchmarks =
        [
            new("dreambooth", "DreamBooth (UNet + text encoder)", (c, _) => c.With(TrainTextEncoder, true) with { LearningRate = 5e-4 }),

            // Prior preservation: 40 class pictures made by the base model from the spec's class prompt at random
            // placements, trained alongside as kohya's regularisation images (prior loss weight 1).
            new("dreambooth-prior", "DreamBooth + prior preservation", (c, _) => c.With(TrainTextEncoder, true) with { LearningRate = 5e-4, PriorLossWeight = 1.0 }, ClassImages: 40),
        ],
    };

    private readonly FullModelTraining full = new("DreamBooth");

    /// <inheritdoc />
    public string Name => "dreambooth";

    /// <inheritdoc />
    public bool TrainsTextEncoder => full.TrainsTextEncoder;

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ClassImages.Ensure(context);
        return full.Prepare(context);
    }

    /// <summary>The optimizer step at which text-encoder training stops; null when it never does.</summary>
    public static long? TextEncoderStopStep(TrainingConfig config, long totalSteps) => FullModelTraining.TextEncoderStopStep(config, totalSteps);

    /// <inheritdoc />
    public void SetTrainingMode(bool training) => full.SetTrainingMode(training);

    /// <inheritdoc />
    public void BeforeStep(TrainingStepInfo step) => full.BeforeStep(step);

    /// <inheritdoc />
    public void AfterStep(TrainingStepInfo step)
    {
    }

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => PriorPreservationLoss.Combine(perSampleLoss, samples);

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info) => full.SaveOutput(folder, name, info);

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() => full.GetState();

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => full.LoadState(state);

    /// <inheritdoc />
    public void Dispose() => full.Clear();
}
