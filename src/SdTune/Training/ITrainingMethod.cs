using SdTune.Pipelines.Control;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>
/// What a training method decides; the <see cref="Trainer"/> runs the loop and knows no particular method. Call order:
/// <see cref="Prepare"/> once, then per optimizer step <see cref="BeforeStep"/>, forward passes (each with
/// <see cref="UNetResiduals"/>, reduced with <see cref="ReduceLoss"/> plus <see cref="LossRegularizer"/>),
/// <see cref="GradientsReady"/>, the optimizer step, <see cref="AfterStep"/>; <see cref="SaveOutput"/>, <see cref="GetState"/> and <see cref="LoadState"/> between steps.
/// The method's name, keys, output use and benchmark rows are declared beside it in a <see cref="TrainingMethodDefinition"/>.
/// </summary>
/// <remarks>
/// The hooks the methods use: <see cref="Prepare"/> may change the model itself (adapters attached to layers, new
/// tokens with trainable embedding rows through <see cref="Text.ClipTokenizer.AddToken"/> and
/// <see cref="Models.Clip.ClipTextEncoder.AddTokenRows"/>, a transform of the cross-attention context for keys and values through <see cref="Models.Unet.UNet2DConditionModel.CrossAttentionContext"/>);
/// <see cref="TrainingCaption"/> and <see cref="SamplePrompt"/> rewrite the texts trained and sampled with (placeholder tokens, templates);
/// <see cref="UNetResiduals"/> adds residuals to the UNet's down and mid features from an extra network fed each sample's
/// <see cref="TrainingSample.ConditioningImagePath"/>; <see cref="LossRegularizer"/> adds a term to the loss;
/// <see cref="BeforeStep"/> and <see cref="AfterStep"/> act on the method's own state every step (every N steps,
/// or freezing part of it after a fraction of the run, from <see cref="TrainingStepInfo"/>), and
/// <see cref="GradientsReady"/> reads the step's final gradients.
/// </remarks>
public interface ITrainingMethod : IDisposable
{
    /// <summary>The method's name ("lora", "dreambooth").</summary>
    string Name { get; }

    /// <summary>Whether the text encoder(s) must run with gradients in the coming step.</summary>
    bool TrainsTextEncoder { get; }

    /// <summary>
    /// Sets the model up for training: creates or unfreezes the trainable weights (float32), casts frozen parts to
    /// <see cref="TrainingContext.WeightDType"/>, and returns the trainable parameters in groups with their learning
    /// rates (named "unet", "text_encoder", ...). Everything of the model starts frozen.
    /// </summary>
    IReadOnlyList<ParameterGroup> Prepare(TrainingContext context);

    /// <summary>Puts the trained modules in training mode (dropouts on) or, for sampling, in evaluation mode.</summary>
    void SetTrainingMode(bool training);

    /// <summary>Runs before the first forward pass of an optimizer step (e.g. stops text-encoder training); the default does nothing.</summary>
    void BeforeStep(TrainingStepInfo step)
    {
    }

    /// <summary>
    /// Runs when the step's gradients are complete (accumulated, unscaled and clipped), just before the optimizer uses
    /// them (AdaLoRA's importance scores); skipped for a float16 step whose gradients overflowed. The default does nothing.
    /// </summary>
    void GradientsReady(TrainingStepInfo step)
    {
    }

    /// <summary>Runs after the optimizer step; the default does nothing.</summary>
    void AfterStep(TrainingStepInfo step)
    {
    }

    /// <summary>Reduces the per-sample losses (already min-SNR weighted) of a micro-batch to the scalar to minimise.</summary>
    /// <param name="perSampleLoss">float32 (B) losses, in the order of <paramref name="samples"/>.</param>
    /// <param name="samples">The batch's samples (their <see cref="TrainingSample.LossWeight"/> and <see cref="TrainingSample.IsReg"/>).</param>
    Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples);

    /// <summary>
    /// Residuals added to the UNet's skip connections and mid block for this micro-batch (ControlNet, T2I-Adapter), or
    /// null for none (the default).
    /// </summary>
    UNetResiduals? UNetResiduals(UNetResidualInputs inputs) => null;

    /// <summary>
    /// Each sample's timestep for this micro-batch, int64 (<paramref name="count"/>) in [0, <paramref name="numTrainTimesteps"/>),
    /// drawn from the run's <paramref name="generator"/>; the default is <see cref="TimestepSampling.Uniform"/>.
    /// </summary>
    Tensor SampleTimesteps(long count, int numTrainTimesteps, Generator generator, Device device) =>
        TimestepSampling.Uniform(count, numTrainTimesteps, generator, device);

    /// <summary>
    /// The controls sample images are generated with (a ControlNet or T2I-Adapter being trained, written under
    /// <paramref name="scratchFolder"/>, with its validation condition image), or none (the default). The caller
    /// deletes the folder after sampling; the images stay owned by the method.
    /// </summary>
    IReadOnlyList<ControlRequest> SampleControls(string scratchFolder) => [];

    /// <summary>A scalar added to the micro-batch's reduced loss (a regulariser), or null for none (the default).</summary>
    Tensor? LossRegularizer() => null;

    /// <summary>
    /// The text a training caption is encoded as, after the dataset's own caption processing (textual inversion: its
    /// token string replaced by the new tokens, or a prompt template drawn from <paramref name="random"/>, which is
    /// seeded by the step and the sample's place so a resumed run draws the same); the default keeps the caption.
    /// </summary>
    /// <param name="caption">The processed caption.</param>
    /// <param name="random">The sample's own random source.</param>
    string TrainingCaption(string caption, IRandomSource random) => caption;

    /// <summary>The text a sample prompt (<c>sample_prompts</c>) is generated with; the default keeps it.</summary>
    /// <param name="prompt">The prompt or negative prompt as written.</param>
    string SamplePrompt(string prompt) => prompt;

    /// <summary>Writes the trained result (atomically) under <paramref name="folder"/> as <paramref name="name"/>; returns the paths written.</summary>
    IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info);

    /// <summary>The method's trainable tensors (copies), for a resumable state.</summary>
    IReadOnlyList<KeyValuePair<string, Tensor>> GetState();

    /// <summary>Restores tensors from <see cref="GetState"/>; every one must be present with the same shape.</summary>
    /// <exception cref="InvalidDataException">A tensor is missing, unexpected or mis-shaped; the message names it.</exception>
    void LoadState(IReadOnlyDictionary<string, Tensor> state);
}
