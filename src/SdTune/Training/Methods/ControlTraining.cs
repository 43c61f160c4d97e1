using SdTune.Imaging;
using SdTune.Options;
using SdTune.Pipelines;
using SdTune.Pipelines.Control;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using TorchSharp;
using SkiaSharp;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// What ControlNet and T2I-Adapter training share: their common keys (<c>proportion_empty_prompts</c>,
/// <c>validation_image</c>), the batch's condition images, the sample images' control and how an output is applied.
/// </summary>
internal static class ControlTraining
{
    /// <summary>
    /// The share of captions trained as the empty prompt, <c>proportion_empty_prompts</c> (diffusers' option): each
    /// sample's caption is replaced by "" with this probability, drawn from the sample's seeded random source.
    /// </summary>
    public static readonly TrainingOption<double> ProportionEmptyPrompts = TrainingOption.Real("proportion_empty_prompts", 0.0, NumericRange.Probability,
        "Probability (0 to 1) that a caption is replaced by the empty prompt (seeded per sample and step).");

    /// <summary>
    /// The condition image sample images are generated with, <c>validation_image</c> (diffusers' option): every prompt
    /// of <c>sample_prompts</c> is generated with the model being trained and this image.
    /// </summary>
    public static readonly TrainingOption<string?> ValidationImage = TrainingOption.Path("validation_image",
        "The condition image sample images (sample_prompts) are generated with; required when sample images are made.") with
    {
        NotUsed = c => c.SamplePrompts is null || (c.SampleEveryNSteps is null && c.SampleEveryNEpochs is null) ? "no sample images are made (sample_prompts with sample_every_n_steps or sample_every_n_epochs)" : null,
    };

    /// <summary>Checks between the shared keys: sample images need a validation image, which must exist.</summary>
    /// <exception cref="TrainingConfigException">A problem; the message names <c>validation_image</c>.</exception>
    public static void Validate(TrainingConfig config)
    {
        var sampling = config.SamplePrompts is not null && (config.SampleEveryNSteps is not null || config.SampleEveryNEpochs is not null);
        if (ValidationImage.Value(config) is { } image)
        {
            if (!File.Exists(image))
            {
                throw new TrainingConfigException(ValidationImage.Name, $"{image}: no such file.");
            }
        }
        else if (sampling)
        {
            throw new TrainingConfigException(ValidationImage.Name, $"sample images of a {config.Method} are generated with a condition image: set validation_image.");
        }
    }

    /// <summary>
    /// Makes <paramref name="network"/> the run's trainable part: float32 on <paramref name="device"/>, every parameter
    /// with gradients, in training mode; one parameter group named <paramref name="group"/> at <c>unet_lr</c> or
    /// <c>learning_rate</c>.
    /// </summary>
    /// <exception cref="TrainingConfigException">The learning rate is 0.</exception>
    public static ParameterGroup Trainable(nn.Module network, Device device, TrainingConfig config, string group)
    {
        var lr = config.UnetLr ?? config.LearningRate;
        if (!(lr > 0))
        {
            throw new TrainingConfigException("learning_rate", $"nothing to train: the {config.Method}'s learning rate (unet_lr or learning_rate) is 0.");
        }

        network.to(ScalarType.Float32).to(device);
        foreach (var p in network.parameters())
        {
            p.requires_grad = true;
        }

        network.train();
        return new ParameterGroup(group, [.. network.parameters()], lr);
    }

    /// <summary>The caption trained with: the empty prompt with probability <c>proportion_empty_prompts</c>, else <paramref name="caption"/>.</summary>
    public static string Caption(TrainingConfig config, string caption, IRandomSource random)
    {
        var proportion = ProportionEmptyPrompts.Value(config);
        return proportion > 0 && random.NextDouble() < proportion ? "" : caption;
    }

    /// <summary>The batch's condition images (B, 3, H, W) in [0, 1], float32 on <paramref name="device"/>, each cropped and flipped as its image.</summary>
    public static Tensor ConditioningImages(TrainingBatch batch, IImageReader reader, Device device)
    {
        using var scope = NewDisposeScope();
        var images = batch.Samples.Select(s => s.LoadConditioningImage(reader)).ToList();
        return stack(images).to(ScalarType.Float32, device).MoveToOuterDisposeScope();
    }

    /// <summary>The validation image of <paramref name="config"/>, or null; the caller owns it.</summary>
    /// <exception cref="TrainingConfigException">The image cannot be read.</exception>
    public static SKBitmap? LoadValidationImage(TrainingConfig config)
    {
        if (ValidationImage.Value(config) is not { } path)
        {
            return null;
        }

        try
        {
            return ImageFile.Load(path);
        }
        catch (ImageLoadException e)
        {
            throw new TrainingConfigException(ValidationImage.Name, e.Message, e);
        }
    }

    /// <summary>
    /// The control sample images use: the model written to <paramref name="folder"/> by <paramref name="save"/>, with
    /// the validation image; none without a validation image.
    /// </summary>
    public static IReadOnlyList<ControlRequest> SampleControls(ControlType type, SKBitmap? image, string folder, Action<string> save)
    {
        if (image is null)
        {
            return [];
        }

        save(folder);
        return [new ControlRequest { Type = type, ModelPath = folder, Image = image }];
    }

    /// <summary>
    /// How a trained control is generated with: added to the request's controls with the condition image of the
    /// request's last control (a control image must already be given: a ControlNet or T2I-Adapter needs one).
    /// </summary>
    public static TrainedOutput Output(ControlType type, string usage) => TrainedOutput.AppliedToBase(
        (request, path) => request with
        {
            Controls =
            [
                .. request.Controls,
                new ControlRequest
                {
                    Type = type,
                    ModelPath = path,
                    Image = request.Controls.LastOrDefault()?.Image ?? throw new ArgumentException($"{path}: a trained {type} is generated with a condition image; give the request a control first."),
                },
            ],
        },
        usage);
}
