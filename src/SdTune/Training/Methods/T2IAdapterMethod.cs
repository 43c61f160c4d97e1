using System.Globalization;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Control;
using SdTune.Imaging;
using SdTune.Models;
using SdTune.Models.Control;
using SdTune.Options;
using SdTune.Pipelines.Control;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// T2I-Adapter training (diffusers' <c>train_t2i_adapter_sdxl.py</c>): a new adapter (<c>adapter_type</c>,
/// <c>adapter_channels</c>, <c>adapter_num_res_blocks</c>, <c>adapter_downscale_factor</c>) or one continued from
/// <c>adapter_model_name_or_path</c> trains in float32 on (image, condition image, caption); the UNet, VAE and text
/// encoder stay frozen. Its features of each micro-batch's condition images go into the UNet as
/// <c>downIntrablockAdditionalResiduals</c>; timesteps are drawn cubically by default (<c>timestep_sampling</c>), the
/// loss is the loop's usual ε/v loss. Output: a diffusers folder (<c>config.json</c> +
/// <c>diffusion_pytorch_model.safetensors</c>).
/// </summary>
public sealed class T2IAdapterMethod : ITrainingMethod
{
    private static readonly string[] AdapterTypes = [T2IAdapterConfig.FullAdapter, T2IAdapterConfig.FullAdapterXl, T2IAdapterConfig.LightAdapter];

    /// <summary>Continue from this T2I-Adapter folder, <c>adapter_model_name_or_path</c>; it must fit the UNet.</summary>
    public static readonly TrainingOption<string?> ModelPath = TrainingOption.Path("adapter_model_name_or_path",
        "Continue from an existing T2I-Adapter (diffusers folder) instead of a new one.");

    /// <summary>The architecture of a new adapter, <c>adapter_type</c>.</summary>
    public static readonly TrainingOption<string> AdapterType = TrainingOption.Text("adapter_type", "",
        $"A new adapter's architecture: {string.Join(", ", AdapterTypes)}; empty: the one that fits the UNet (full_adapter_xl when its first down block has no cross-attention, as SDXL's; else full_adapter).") with
    {
        Check = value => (string)value is "" || AdapterTypes.Contains((string)value) ? null : $"\"{value}\" is not an adapter type; use {string.Join(", ", AdapterTypes)}.",
    };

    /// <summary>A new adapter's widths, <c>adapter_channels</c>: comma-separated; empty for the UNet's.</summary>
    public static readonly TrainingOption<string> Channels = TrainingOption.Text("adapter_channels", "",
        "A new adapter's widths, comma-separated; empty: the UNet's block_out_channels (full_adapter_xl: its last width once more).") with
    {
        Check = value => Problem(() => ParseChannels((string)value)),
    };

    /// <summary>Residual blocks per level of a new adapter, <c>adapter_num_res_blocks</c>.</summary>
    public static readonly TrainingOption<int> NumResBlocks = TrainingOption.Integer("adapter_num_res_blocks", 2, new NumericRange(NumberType.Int32, 1, 16),
        "Residual blocks per level of a new adapter.");

    /// <summary>The pixel-unshuffle factor of a new adapter, <c>adapter_downscale_factor</c>; 0 for the VAE's (twice it for full_adapter_xl).</summary>
    public static readonly TrainingOption<int> DownscaleFactor = TrainingOption.Integer("adapter_downscale_factor", 0, new NumericRange(NumberType.Int32, 0, 64),
        "A new adapter's pixel-unshuffle factor; 0: the VAE's (8 for Stable Diffusion; 16 for full_adapter_xl).");

    /// <summary>How timesteps are drawn, <c>timestep_sampling</c>: <c>cubic</c> (diffusers' T2I-Adapter script) or <c>uniform</c>.</summary>
    public static readonly TrainingOption<string> Sampling = TrainingOption.Text("timestep_sampling", TimestepSampling.CubicName,
        "cubic: t = (1 - u^3) * T, biased towards noisy timesteps (diffusers' T2I-Adapter script); uniform: as other methods.") with
    {
        Check = value => TimestepSampling.Names.Contains((string)value) ? null : $"\"{value}\": use {string.Join(" or ", TimestepSampling.Names)}.",
    };

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "t2i-adapter",
        Summary = "Train a T2I-Adapter (new or continued) on images, condition images and captions.",
        Create = () => new T2IAdapterMethod(),
        Options = [ModelPath, AdapterType, Channels, NumResBlocks, DownscaleFactor, Sampling, ControlTraining.ProportionEmptyPrompts, ControlTraining.ValidationImage],
        Validate = ControlTraining.Validate,
        ConditioningImages = true,
        Trains = _ => new TrainedParts(true, false, false),
        Output = ControlTraining.Output(ControlType.T2IAdapter, "sdtune generate --t2i-adapter {0} --control-image IMAGE"),
    };

    private T2IAdapter? adapter;
    private TrainingConfig? config;
    private IImageReader reader = new ImageFileReader();
    private ScalarType unetType = ScalarType.Float32;
    private SKBitmap? validationImage;
    private Func<long, int, Generator, Device, Tensor> sampleTimesteps = TimestepSampling.Cubic;

    /// <inheritdoc />
    public string Name => "t2i-adapter";

    /// <summary>The adapter being trained (after <see cref="Prepare"/>).</summary>
    public T2IAdapter Network => adapter ?? throw new InvalidOperationException("The t2i-adapter method is not prepared.");

    /// <inheritdoc />
    public bool TrainsTextEncoder => false;

    /// <summary>The config of a new adapter for <paramref name="model"/> as <paramref name="config"/> asks.</summary>
    /// <exception cref="TrainingConfigException">The settings make no valid adapter; the message names the key.</exception>
    public static T2IAdapterConfig NewAdapterConfig(TrainingConfig config, StableDiffusionModel model)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(model);
        var type = AdapterType.Value(config) is { Length: > 0 } chosen ? chosen : T2IAdapterConfig.LayoutFor(model.Unet.Config);
        var xl = type == T2IAdapterConfig.FullAdapterXl;
        var widths = model.Unet.Config.BlockOutChannels;
        var given = ParseChannels(Channels.Value(config));
        if (xl && widths.Count != 3 && given is null)
        {
            throw new TrainingConfigException(AdapterType.Name, $"{T2IAdapterConfig.FullAdapterXl} feeds the three down blocks of SDXL's UNet; this UNet has {widths.Count}, so its features cannot be placed.");
        }

        var channels = given ?? (xl ? [.. widths, widths[^1]] : widths);
        var factor = DownscaleFactor.Value(config) is > 0 and var f ? f : TiledVae.DownscaleFactor(model.Vae) * (xl ? 2 : 1);
        var result = new T2IAdapterConfig { AdapterType = type, Channels = channels, NumResBlocks = NumResBlocks.Value(config), DownscaleFactor = factor };
        try
        {
            result.Validate();
        }
        catch (ArgumentException e)
        {
            throw new TrainingConfigException(e.Message.Contains("channels", StringComparison.Ordinal) ? Channels.Name : AdapterType.Name, e.Message, e);
        }

        return result;
    }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        config = context.Config;
        reader = context.ImageReader;
        sampleTimesteps = TimestepSampling.Named(Sampling.Value(config));
        var model = context.Model;
        context.CastFrozenWeights();
        unetType = model.Unet.parameters().First().dtype;
        var source = ModelPath.Value(config) is { } path ? path : Channels.Name;
        adapter = ModelPath.Value(config) is { } folder ? Load(folder) : new T2IAdapter(NewAdapterConfig(config, model));
        try
        {
            adapter.EnsureFits(model.Unet.Config, source);
        }
        catch (IOException e)
        {
            var key = ModelPath.Value(config) is not null ? ModelPath.Name : adapter.LayoutFits(model.Unet.Config) ? Channels.Name : AdapterType.Name;
            throw new TrainingConfigException(key, e.Message, e);
        }

        var group = ControlTraining.Trainable(adapter, model.Unet.parameters().First().device, config, "adapter");
        validationImage = ControlTraining.LoadValidationImage(config);
        return [group];
    }

    /// <inheritdoc />
    public void SetTrainingMode(bool training) => Network.train(training);

    /// <inheritdoc />
    public string TrainingCaption(string caption, IRandomSource random) => ControlTraining.Caption(config!, caption, random);

    /// <inheritdoc />
    public Tensor SampleTimesteps(long count, int numTrainTimesteps, Generator generator, Device device) =>
        sampleTimesteps(count, numTrainTimesteps, generator, device);

    /// <inheritdoc />
    public UNetResiduals UNetResiduals(UNetResidualInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var condition = ControlTraining.ConditioningImages(inputs.Batch, reader, inputs.NoisyLatents.device);
        return new UNetResiduals(null, null, [.. Network.forward(condition).Select(f => f.to(unetType))]);
    }

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => PriorPreservationLoss.WeightedMean(perSampleLoss, samples);

    /// <inheritdoc />
    public IReadOnlyList<ControlRequest> SampleControls(string scratchFolder) =>
        ControlTraining.SampleControls(ControlType.T2IAdapter, validationImage, scratchFolder, folder => T2IAdapterFiles.SaveFolder(Network, folder));

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var target = Path.Combine(folder, name);
        T2IAdapterFiles.SaveFolder(Network, target, new ModelSaveOptions { DType = TrainingConfigParser.SaveDType(info.Config.SavePrecision) ?? ScalarType.Float32 });
        return [target];
    }

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() => StateTensors.Copies(Network);

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => StateTensors.CopyInto(Network.state_dict(), state, "T2I-Adapter");

    /// <inheritdoc />
    public void Dispose()
    {
        adapter?.Dispose();
        adapter = null;
        validationImage?.Dispose();
        validationImage = null;
    }

    /// <summary>Reads <c>adapter_channels</c>: positive integers separated by commas; null when empty.</summary>
    /// <exception cref="ArgumentException">Not such a list.</exception>
    internal static IReadOnlyList<int>? ParseChannels(string text) =>
        text.Trim().Length == 0 ? null
        : [.. text.Split(',', StringSplitOptions.TrimEntries).Select(part =>
            int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var width) && width > 0
                ? width
                : throw new ArgumentException($"\"{part}\" is not a positive integer (write e.g. 320,640,1280,1280)."))];

    private static string? Problem(Action check)
    {
        try
        {
            check();
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    private static T2IAdapter Load(string folder)
    {
        try
        {
            return T2IAdapterFiles.LoadFolder(folder, new ModelLoadOptions { DType = ScalarType.Float32 });
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
        {
            throw new TrainingConfigException(ModelPath.Name, e.Message, e);
        }
    }
}
