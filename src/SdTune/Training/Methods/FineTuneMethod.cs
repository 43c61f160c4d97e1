using SdTune.Training.Data;
using SdTune.Training.Optimization;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// A plain full fine-tune on captioned images (sd-scripts' fine-tuning): every UNet weight is trained (float32), and with
/// <c>train_text_encoder</c> the text encoder(s) too, until <c>stop_text_encoder_training</c>. Each image is trained
/// on its own caption: no identifier, no class images, no prior loss. Output: a diffusers folder and/or a single-file
/// checkpoint (<c>save_model_as</c>), as DreamBooth's.
/// </summary>
/// <remarks>
/// It declares no concept-benchmark row: the benchmark teaches a new subject from a handful of pictures named by an
/// identifier, which is DreamBooth's task (its full-fine-tune row already measures this training machinery there).
/// </remarks>
public sealed class FineTuneMethod : ITrainingMethod
{
    /// <summary>Also train the text encoder(s), <c>train_text_encoder</c> (shared with DreamBooth).</summary>
    public static readonly TrainingOption<bool> TrainTextEncoder = FullModelTraining.TrainTextEncoder;

    /// <summary>Stop training the text encoder after this fraction of the steps (below 1) or step count, <c>stop_text_encoder_training</c> (shared with DreamBooth).</summary>
    public static readonly TrainingOption<double?> StopTextEncoderTraining = FullModelTraining.StopTextEncoderTraining;

    /// <summary>Output forms, <c>save_model_as</c>: "diffusers", "safetensors" (single file), or both comma-separated (shared with DreamBooth).</summary>
    public static readonly TrainingOption<string> SaveModelAs = FullModelTraining.SaveModelAs;

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "finetune",
        Summary = "Fine-tune: train the UNet (and optionally the text encoder) on captioned images.",
        Create = () => new FineTuneMethod(),
        Options = FullModelTraining.Options,
        Validate = Check,
        Trains = FullModelTraining.Trains,
        Output = TrainedOutput.Model,
    };

    private readonly FullModelTraining full = new("Fine-tune");

    /// <inheritdoc />
    public string Name => "finetune";

    /// <inheritdoc />
    public bool TrainsTextEncoder => full.TrainsTextEncoder;

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context) => full.Prepare(context);

    /// <inheritdoc />
    public void SetTrainingMode(bool training) => full.SetTrainingMode(training);

    /// <inheritdoc />
    public void BeforeStep(TrainingStepInfo step) => full.BeforeStep(step);

    /// <inheritdoc />
    public void AfterStep(TrainingStepInfo step)
    {
    }

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => PriorPreservationLoss.WeightedMean(perSampleLoss, samples);

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info) => full.SaveOutput(folder, name, info);

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() => full.GetState();

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => full.LoadState(state);

    /// <inheritdoc />
    public void Dispose() => full.Clear();

    /// <summary>Fine-tuning trains on captioned images only: DreamBooth's instance/class layout and regularisation images are refused.</summary>
    private static void Check(TrainingConfig c)
    {
        if (c.InstanceDataDir is not null)
        {
            throw new TrainingConfigException("instance_data_dir",
                "finetune trains on captioned images (train_data_dir or dataset_config); instance_data_dir with instance_prompt and class images is DreamBooth's layout: use method = \"dreambooth\".");
        }

        if (c.RegDataDir is not null)
        {
            throw new TrainingConfigException("reg_data_dir", "finetune has no regularisation (class) images or prior loss; use method = \"dreambooth\" or \"lora\" for them.");
        }
    }
}
