using SdTune.Checkpoints;
using SdTune.Checkpoints.Control;
using SdTune.Imaging;
using SdTune.IO;
using SdTune.Models.Control;
using SdTune.Models.Unet;
using SdTune.Pipelines.Control;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// ControlNet training (diffusers' <c>train_controlnet.py</c>): a ControlNet copied from the base UNet
/// (<see cref="ControlNetModel.FromUnet"/>, zero convolutions at zero) or continued from
/// <c>controlnet_model_name_or_path</c> trains in float32 on (image, condition image, caption); the UNet, VAE and text
/// encoder stay frozen. Each micro-batch's condition images, cropped and flipped as their images and in [0, 1], go
/// through the ControlNet with the noisy latents, timesteps and captions, and its residuals are added to the UNet's
/// skips and mid block; the loss is the loop's usual ε/v loss. Output: a diffusers folder (<c>config.json</c> +
/// <c>diffusion_pytorch_model.safetensors</c>), with <c>controlnet_single_file</c> also the original single file
/// A1111 and ComfyUI load.
/// </summary>
public sealed class ControlNetMethod : ITrainingMethod
{
    /// <summary>Continue from this ControlNet (diffusers folder or single file), <c>controlnet_model_name_or_path</c>; it must fit the UNet.</summary>
    public static readonly TrainingOption<string?> ModelPath = TrainingOption.Path("controlnet_model_name_or_path",
        "Continue from an existing ControlNet (diffusers folder or single file) instead of copying the UNet.");

    /// <summary>Also write <c>NAME.safetensors</c> in the original layout, <c>controlnet_single_file</c>.</summary>
    public static readonly TrainingOption<bool> SingleFile = TrainingOption.Flag("controlnet_single_file", false,
        "Also write NAME.safetensors beside the folder, in the original ControlNet layout A1111 and ComfyUI load.");

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "controlnet",
        Summary = "Train a ControlNet (copied from the UNet, or continued) on images, condition images and captions.",
        Create = () => new ControlNetMethod(),
        Options = [ModelPath, SingleFile, ControlTraining.ProportionEmptyPrompts, ControlTraining.ValidationImage],
        Validate = ControlTraining.Validate,
        ConditioningImages = true,
        Trains = _ => new TrainedParts(true, false, false),
        Output = ControlTraining.Output(ControlType.ControlNet, "sdtune generate --controlnet {0} --control-image IMAGE"),
    };

    private ControlNetModel? controlNet;
    private TrainingConfig? config;
    private IImageReader reader = new ImageFileReader();
    private ScalarType unetType = ScalarType.Float32;
    private SKBitmap? validationImage;

    /// <inheritdoc />
    public string Name => "controlnet";

    /// <summary>The ControlNet being trained (after <see cref="Prepare"/>).</summary>
    public ControlNetModel Network => controlNet ?? throw new InvalidOperationException("The controlnet method is not prepared.");

    /// <inheritdoc />
    public bool TrainsTextEncoder => false;

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        config = context.Config;
        reader = context.ImageReader;
        var model = context.Model;
        var device = model.Unet.parameters().First().device;
        var vaeFactor = TiledVae.DownscaleFactor(model.Vae);

        // Copied while the UNet is still in float32, before the frozen weights are cast.
        controlNet = ModelPath.Value(config) is { } path ? Load(path, model.Unet.Config, vaeFactor) : FromUnet(model.Unet, vaeFactor);
        context.CastFrozenWeights();
        unetType = model.Unet.parameters().First().dtype;
        var group = ControlTraining.Trainable(controlNet, device, config, "controlnet");
        controlNet.GradientCheckpointing = config.GradientCheckpointing;
        validationImage = ControlTraining.LoadValidationImage(config);
        return [group];
    }

    /// <inheritdoc />
    public void SetTrainingMode(bool training) => Network.train(training);

    /// <inheritdoc />
    public string TrainingCaption(string caption, IRandomSource random) => ControlTraining.Caption(config!, caption, random);

    /// <inheritdoc />
    public UNetResiduals UNetResiduals(UNetResidualInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var noisy = inputs.NoisyLatents.to(ScalarType.Float32);
        var condition = ControlTraining.ConditioningImages(inputs.Batch, reader, noisy.device);
        var added = inputs.Added is { } a ? new UNetAddedConditions(a.TextEmbeds.to(ScalarType.Float32), a.TimeIds.to(ScalarType.Float32)) : null;
        var output = Network.forward(noisy, inputs.Timesteps, inputs.Context.to(ScalarType.Float32), condition, addedConditions: added);
        return new UNetResiduals([.. output.DownBlockResiduals.Select(d => d.to(unetType))], output.MidBlockResidual.to(unetType), null);
    }

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => PriorPreservationLoss.WeightedMean(perSampleLoss, samples);

    /// <inheritdoc />
    public IReadOnlyList<ControlRequest> SampleControls(string scratchFolder) =>
        ControlTraining.SampleControls(ControlType.ControlNet, validationImage, scratchFolder, folder => ControlNetFiles.SaveFolder(Network, folder));

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var options = new ModelSaveOptions { DType = TrainingConfigParser.SaveDType(info.Config.SavePrecision) ?? ScalarType.Float32 };
        var target = Path.Combine(folder, name);
        ControlNetFiles.SaveFolder(Network, target, options);
        if (!SingleFile.Value(info.Config))
        {
            return [target];
        }

        var file = target + ".safetensors";
        ControlNetSingleFile.Save(Network, file, options);
        return [target, file];
    }

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() => StateTensors.Copies(Network);

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => StateTensors.CopyInto(Network.state_dict(), state, "ControlNet");

    /// <inheritdoc />
    public void Dispose()
    {
        controlNet?.Dispose();
        controlNet = null;
        validationImage?.Dispose();
        validationImage = null;
    }

    /// <summary>
    /// A ControlNet copied from the UNet, its conditioning embedding shrinking the image as the VAE does: the first
    /// log2(factor) + 1 of diffusers' widths (16, 32, 96, 256 for SD's 8x).
    /// </summary>
    private static ControlNetModel FromUnet(UNet2DConditionModel unet, int vaeFactor)
    {
        var levels = System.Numerics.BitOperations.Log2((uint)vaeFactor) + 1;
        var widths = ControlNetConfig.DefaultConditioningEmbeddingOutChannels;
        IReadOnlyList<int> embedding = levels <= widths.Count ? [.. widths.Take(levels)] : [.. widths, .. Enumerable.Repeat(widths[^1], levels - widths.Count)];
        try
        {
            return ControlNetModel.FromUnet(unet, embedding);
        }
        catch (ArgumentException e)
        {
            throw new TrainingConfigException("method", $"this UNet cannot be copied into a ControlNet: {e.Message}", e);
        }
    }

    /// <summary>Loads <paramref name="path"/> in float32 and checks that it fits the UNet, the VAE and 3-channel condition images.</summary>
    private static ControlNetModel Load(string path, UNet2DConditionConfig unet, int vaeFactor)
    {
        ControlNetModel? loaded = null;
        try
        {
            loaded = ControlNetFiles.Load(path, new ModelLoadOptions { DType = ScalarType.Float32 });
            loaded.EnsureFits(unet, path, vaeFactor);
            if (loaded.Config.ConditioningChannels != 3)
            {
                throw new CheckpointFormatException(path, $"this ControlNet takes {loaded.Config.ConditioningChannels}-channel condition images; training reads 3-channel (RGB) images.");
            }

            return loaded;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
        {
            loaded?.Dispose();
            throw new TrainingConfigException(ModelPath.Name, e.Message, e);
        }
    }
}
