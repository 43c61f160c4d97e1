using System.Globalization;
using SdTune.Adapters.Formats;
using SdTune.Adapters.Hypernetworks;
using SdTune.Checkpoints.Hypernetworks;
using SdTune.IO;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// An A1111 hypernetwork: for each context width of the UNet's attention layers that it covers, two small residual MLPs
/// that transform the context before the key and the value projections (the text for cross-attention, the hidden
/// states for self-attention). The whole base model stays frozen. Continues from a file with
/// <c>hypernetwork_weights</c>. Output: an A1111 <c>.pt</c> (<c>step</c> = steps done, <c>name</c> = the output name,
/// <c>sd_checkpoint_name</c> = the model's file name). Loss: kohya's weighted mean.
/// </summary>
public sealed class HypernetworkMethod : ITrainingMethod
{
    /// <summary>Layer widths as multiples of the context width, <c>hypernetwork_layer_structure</c>.</summary>
    public static readonly TrainingOption<string> LayerStructure = TrainingOption.Text("hypernetwork_layer_structure", "1,2,1", "Layer widths as multiples of the context width; starts and ends with 1 (A1111's \"1, 2, 1\").") with
    {
        Check = value => Problem(() => new HypernetworkSettings { LayerStructure = HypernetworkSettings.ParseLayerStructure((string)value) }.Validate()),
    };

    /// <summary>The activation after each Linear, <c>hypernetwork_activation</c>.</summary>
    public static readonly TrainingOption<string> Activation = TrainingOption.Text("hypernetwork_activation", HypernetworkActivations.Linear, $"Activation: {string.Join(", ", HypernetworkActivations.Names)}.") with
    {
        Check = value => Problem(() => HypernetworkActivations.Check((string)value)),
    };

    /// <summary>How new weights are initialised, <c>hypernetwork_weight_init</c>.</summary>
    public static readonly TrainingOption<string> WeightInit = TrainingOption.Text("hypernetwork_weight_init", nameof(HypernetworkWeightInit.Normal), $"Weight initialization: {string.Join(", ", HypernetworkWeightInits.Names)}.") with
    {
        Check = value => Problem(() => HypernetworkWeightInits.Parse((string)value)),
    };

    /// <summary>A LayerNorm after each Linear, <c>hypernetwork_layer_norm</c>.</summary>
    public static readonly TrainingOption<bool> LayerNorm = TrainingOption.Flag("hypernetwork_layer_norm", false, "Add a LayerNorm after each Linear.");

    /// <summary>Dropout (0.3) after the hidden layers, <c>hypernetwork_dropout</c> (A1111's use_dropout).</summary>
    public static readonly TrainingOption<bool> Dropout = TrainingOption.Flag("hypernetwork_dropout", false, "Use dropout (0.3 after the hidden layers but the last).");

    /// <summary>Dropout after the last hidden layer too, <c>hypernetwork_last_layer_dropout</c>.</summary>
    public static readonly TrainingOption<bool> LastLayerDropout = TrainingOption.Flag("hypernetwork_last_layer_dropout", false, "With hypernetwork_dropout: dropout after the last hidden layer too.");

    /// <summary>Activate the output layer too, <c>hypernetwork_activate_output</c>.</summary>
    public static readonly TrainingOption<bool> ActivateOutput = TrainingOption.Flag("hypernetwork_activate_output", false, "Apply the activation after the last Linear too.");

    /// <summary>The context widths to cover, <c>hypernetwork_sizes</c>; those the model lacks are left out.</summary>
    public static readonly TrainingOption<string> Sizes = TrainingOption.Text("hypernetwork_sizes", string.Join(",", Hypernetwork.DefaultWidths), "Context widths to cover (A1111's modules: 768 text SD1, 1024 text SD2, 320/640/1280 self-attention); widths the model lacks are left out.") with
    {
        Check = value => Problem(() => ParseSizes((string)value)),
    };

    /// <summary>Continue from this hypernetwork file, <c>hypernetwork_weights</c> (its own structure is used).</summary>
    public static readonly TrainingOption<string?> Weights = TrainingOption.Path("hypernetwork_weights", "Continue from an existing A1111 hypernetwork file (its own structure and widths are used).");

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "hypernetwork",
        Summary = "Train an A1111 hypernetwork (residual MLPs on the attention keys' and values' context).",
        Create = () => new HypernetworkMethod(),
        Options = [LayerStructure, Activation, WeightInit, LayerNorm, Dropout, LastLayerDropout, ActivateOutput, Sizes, Weights],
        Validate = c =>
        {
            if (LastLayerDropout.Value(c) && !Dropout.Value(c))
            {
                throw new TrainingConfigException("hypernetwork_last_layer_dropout", "needs hypernetwork_dropout = true.");
            }

            _ = SettingsOf(c);
        },
        Trains = _ => new TrainedParts(true, false, false),
        Output = TrainedOutput.AppliedToBase(
            (request, path) => request with { Hypernetworks = [.. request.Hypernetworks, (path, 1.0)] },
            "sdtune generate --hypernetwork {0}:1.0 (or <hypernet:NAME:1.0> in the prompt with --hypernetwork-dir)"),
        Benchmarks =
        [
            new("hypernetwork", "hypernetwork 1,2,1 linear (text 32 + self-attention 64), lr 5e-3", (c, _) => c.With(Sizes, "32,64") with { LearningRate = 5e-3 }),
        ],
    };

    private Hypernetwork? network;
    private HypernetworkChain? chain;
    private long baseStep;
    private readonly BaseModelStamp stamp = new();

    /// <inheritdoc />
    public string Name => "hypernetwork";

    /// <summary>The trained hypernetwork (after <see cref="Prepare"/>).</summary>
    public Hypernetwork Network => network ?? throw new InvalidOperationException("The hypernetwork method is not prepared.");

    /// <inheritdoc />
    public bool TrainsTextEncoder => false;

    /// <summary>The module settings a configuration asks for.</summary>
    /// <exception cref="TrainingConfigException">A key is invalid (the exception names it).</exception>
    public static HypernetworkSettings SettingsOf(TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        IReadOnlyList<double> structure;
        try
        {
            structure = HypernetworkSettings.ParseLayerStructure(LayerStructure.Value(config));
        }
        catch (ArgumentException e)
        {
            throw new TrainingConfigException("hypernetwork_layer_structure", e.Message);
        }

        HypernetworkWeightInit init;
        try
        {
            init = HypernetworkWeightInits.Parse(WeightInit.Value(config));
        }
        catch (ArgumentException e)
        {
            throw new TrainingConfigException("hypernetwork_weight_init", e.Message);
        }

        var settings = new HypernetworkSettings
        {
            LayerStructure = structure,
            Activation = Activation.Value(config),
            WeightInit = init,
            LayerNorm = LayerNorm.Value(config),
            ActivateOutput = ActivateOutput.Value(config),
            DropoutStructure = HypernetworkSettings.DropoutStructureFor(structure, Dropout.Value(config), LastLayerDropout.Value(config)),
        };
        try
        {
            HypernetworkActivations.Check(settings.Activation);
        }
        catch (ArgumentException e)
        {
            throw new TrainingConfigException("hypernetwork_activation", e.Message);
        }

        try
        {
            settings.Validate();
        }
        catch (ArgumentException e)
        {
            throw new TrainingConfigException("hypernetwork_layer_structure", e.Message);
        }

        return settings;
    }

    /// <summary>Reads <c>hypernetwork_sizes</c>: positive integers separated by commas, each once.</summary>
    /// <exception cref="ArgumentException">Not such a list.</exception>
    public static IReadOnlyList<long> ParseSizes(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sizes = text.Split(',', StringSplitOptions.TrimEntries).Select(part =>
            long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0
                ? size
                : throw new ArgumentException($"\"{part}\" is not a positive integer (write e.g. 768,320,640,1280).")).ToList();
        return sizes.Distinct().Count() == sizes.Count ? sizes : throw new ArgumentException($"\"{text}\" lists a width twice.");
    }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var config = context.Config;
        var model = context.Model;
        context.CastFrozenWeights();
        var widths = model.Unet.AttentionContextWidths;
        var device = model.Unet.parameters().First().device;
        if (Weights.Value(config) is { } weights)
        {
            try
            {
                (network, var file) = A1111HypernetworkFormat.Load(weights);
                baseStep = file.Step ?? 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or CheckpointFormatException)
            {
                throw new TrainingConfigException("hypernetwork_weights", $"{weights}: cannot continue from this file ({e.Message})");
            }

            if (!network.Widths.Any(widths.Contains))
            {
                throw new TrainingConfigException("hypernetwork_weights", $"{weights}: none of its context widths ({string.Join(", ", network.Widths)}) occurs in this model's attention layers ({string.Join(", ", widths)}).");
            }

            network.to(device);
        }
        else
        {
            var wanted = ParseSizes(Sizes.Value(config));
            var kept = wanted.Where(widths.Contains).ToList();
            if (kept.Count == 0)
            {
                throw new TrainingConfigException("hypernetwork_sizes", $"none of {string.Join(", ", wanted)} is a context width of this model's attention layers; it has {string.Join(", ", widths)} (e.g. hypernetwork_sizes = \"{string.Join(",", widths)}\").");
            }

            if (kept.Count < wanted.Count)
            {
                context.Warnings.Add($"hypernetwork_sizes: {string.Join(", ", wanted.Except(kept))} left out: this model's attention contexts are {string.Join(", ", widths)} wide.");
            }

            network = new Hypernetwork(kept, SettingsOf(config), device);
        }

        // Widths of a continued file that this model lacks are kept as they are, untrained.
        var trainable = new List<TorchSharp.Modules.Parameter>();
        foreach (var width in network.Widths)
        {
            var (key, value) = network[width];
            foreach (var p in key.parameters().Concat(value.parameters()))
            {
                p.requires_grad = widths.Contains(width);
                if (p.requires_grad)
                {
                    trainable.Add(p);
                }
            }
        }

        network.train();
        chain = HypernetworkChain.Attach(model.Unet, [network]);
        var lr = config.UnetLr ?? config.LearningRate;
        if (!(lr > 0))
        {
            throw new TrainingConfigException("learning_rate", "nothing to train: the hypernetwork's learning rate (unet_lr or learning_rate) is 0.");
        }

        return [new ParameterGroup("unet", trainable, lr)];
    }

    /// <inheritdoc />
    public void SetTrainingMode(bool training) => Network.train(training);

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => PriorPreservationLoss.WeightedMean(perSampleLoss, samples);

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var model = info.Config.PretrainedModel;
        var path = Path.Combine(folder, name + ".pt");
        A1111HypernetworkFormat.Save(path, Network, new HypernetworkFileContents
        {
            Layers = [],
            Name = name,
            Step = baseStep + info.Step,
            SdCheckpoint = stamp.Hash(model),
            SdCheckpointName = BaseModelStamp.Name(model),
        });
        return [path];
    }

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() => StateTensors.Copies(Network);

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => StateTensors.CopyInto(Network.state_dict(), state, "hypernetwork");

    /// <inheritdoc />
    public void Dispose()
    {
        chain?.Dispose();
        chain = null;
        network?.Dispose();
        network = null;
    }

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
}
