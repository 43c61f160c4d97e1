using System.Globalization;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.IO;
using SdTune.Models;
using SdTune.Options;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// LoRA (and LoCon with <c>conv_dim</c>, or a LyCORIS algorithm with <c>algo</c>) on the UNet and, unless trained UNet-only,
/// the text encoder(s); the base model stays frozen in the run's weight type. Continues from a file with
/// <c>network_weights</c>. Output: a kohya <c>.safetensors</c> with the <c>ss_*</c> and <c>modelspec.*</c> metadata of the run.
/// Loss: kohya's weighted mean.
/// </summary>
public sealed class LoraMethod : ITrainingMethod
{
    /// <summary>LoRA rank, <c>network_dim</c>.</summary>
    public static readonly TrainingOption<int> NetworkDim = TrainingOption.Integer("network_dim", 4, TrainingConfigKeys.Rank, "LoRA rank.");

    /// <summary>LoRA alpha (the scale is alpha / rank), <c>network_alpha</c>.</summary>
    public static readonly TrainingOption<double> NetworkAlpha = TrainingOption.Real("network_alpha", 1.0, NumericRange.PositiveFloat32, "LoRA alpha (scale alpha/rank).");

    /// <summary>Dropout on the LoRA rank activations, <c>network_dropout</c>.</summary>
    public static readonly TrainingOption<double> NetworkDropout = TrainingOption.Real("network_dropout", 0, NumericRange.DropoutRate, "Dropout on the LoRA down projection's output.");

    /// <summary>Further network arguments "k=v" (conv_dim, conv_alpha, rank_dropout, module_dropout, algo, ...), <c>network_args</c>.</summary>
    public static readonly TrainingOption<IReadOnlyList<string>> NetworkArgs = TrainingOption.List("network_args", "Network arguments k=v: conv_dim, conv_alpha, rank_dropout, module_dropout, algo (locon, loha, lokr, ...).") with
    {
        Check = value => ((IReadOnlyList<string>)value).FirstOrDefault(arg => !arg.Contains('=', StringComparison.Ordinal)) is { } bad ? $"\"{bad}\" is not key=value." : null,
    };

    /// <summary>Continue from this LoRA file, <c>network_weights</c>.</summary>
    public static readonly TrainingOption<string?> NetworkWeights = TrainingOption.Path("network_weights", "Continue from an existing LoRA file.");

    /// <summary>Train the UNet part only, <c>network_train_unet_only</c>.</summary>
    public static readonly TrainingOption<bool> NetworkTrainUnetOnly = TrainingOption.Flag("network_train_unet_only", false, "Train the UNet modules only.");

    /// <summary>Train the text-encoder part only, <c>network_train_text_encoder_only</c>.</summary>
    public static readonly TrainingOption<bool> NetworkTrainTextEncoderOnly = TrainingOption.Flag("network_train_text_encoder_only", false, "Train the text-encoder modules only.");

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "lora",
        Summary = "Train a LoRA (LoCon with network_args conv_dim=..., LyCORIS algorithms with algo=...).",
        Create = () => new LoraMethod(),
        Options = [NetworkDim, NetworkAlpha, NetworkDropout, NetworkArgs, NetworkWeights, NetworkTrainUnetOnly, NetworkTrainTextEncoderOnly],
        Validate = c =>
        {
            if (NetworkTrainUnetOnly.Value(c) && NetworkTrainTextEncoderOnly.Value(c))
            {
                throw new TrainingConfigException("network_train_unet_only", "cannot be combined with network_train_text_encoder_only.");
            }

            _ = NetworkOptionsOf(c);
        },
        Trains = c => new TrainedParts(!NetworkTrainTextEncoderOnly.Value(c), !NetworkTrainUnetOnly.Value(c), !NetworkTrainUnetOnly.Value(c)),
        Output = TrainedOutput.AppliedToBase((request, path) => request with { Loras = [.. request.Loras, (path, 1.0)] }, "sdtune generate --lora {0}:1.0 (or <lora:NAME:1.0> in the prompt with --lora-dir)"),
        Benchmarks =
        [
            new("lora", "LoRA r8 (UNet + text encoder)", (c, _) => c.With(NetworkDim, 8).With(NetworkAlpha, 8.0) with { LearningRate = 5e-3 }),
            new("locon", "LoCon r8, conv r8", (c, _) => c.With(NetworkDim, 8).With(NetworkAlpha, 8.0).With(NetworkArgs, ["conv_dim=8", "conv_alpha=8"]) with { LearningRate = 5e-3 }),
            new("loha", "LoHa r8, conv r8", (c, _) => c.With(NetworkDim, 8).With(NetworkAlpha, 8.0).With(NetworkArgs, ["algo=loha", "conv_dim=8", "conv_alpha=8"]) with { LearningRate = 5e-3 }),
            new("lokr", "LoKr r8, conv r8 (factor -1)", (c, _) => c.With(NetworkDim, 8).With(NetworkAlpha, 8.0).With(NetworkArgs, ["algo=lokr", "conv_dim=8", "conv_alpha=8"]) with { LearningRate = 5e-3 }),
        ],
    };

    private LoraNetwork? network;
    private TrainingContext? context;

    /// <inheritdoc />
    public string Name => "lora";

    /// <summary>The trained network (after <see cref="Prepare"/>).</summary>
    public LoraNetwork Network => network ?? throw new InvalidOperationException("The LoRA method is not prepared.");

    /// <inheritdoc />
    public bool TrainsTextEncoder => network is not null && network.Entries.Any(e => e.Component != LoraComponent.Unet);

    /// <summary>
    /// The configuration with <c>algo=ALGORITHM</c> first in its <c>network_args</c> (<c>sdtune train loha|lokr</c>): the
    /// other arguments are kept; an <c>algo</c> naming the same algorithm is kept once, another one is refused.
    /// </summary>
    /// <param name="config">The configuration.</param>
    /// <param name="algorithm">A registered adapter algorithm (<see cref="AdapterAlgorithms"/>).</param>
    /// <exception cref="TrainingConfigException">The algorithm is unknown, or network_args already names another.</exception>
    public static TrainingConfig WithAlgorithm(TrainingConfig config, string algorithm)
    {
        ArgumentNullException.ThrowIfNull(config);
        string name;
        try
        {
            name = AdapterAlgorithms.Get(algorithm).Name;
        }
        catch (ArgumentException e)
        {
            throw new TrainingConfigException(NetworkArgs.Name, e.Message);
        }

        var others = new List<string>();
        foreach (var arg in NetworkArgs.Value(config))
        {
            if (SplitArgument(arg) is not ("algo", var given))
            {
                others.Add(arg);
            }
            else if (!string.Equals(given, name, StringComparison.OrdinalIgnoreCase))
            {
                throw new TrainingConfigException(NetworkArgs.Name, $"\"{arg}\" asks for another algorithm than `sdtune train {name}`; drop it, or use `sdtune train lora` with algo={given}.");
            }
        }

        return config.With(NetworkArgs, [$"algo={name}", .. others]);
    }

    /// <summary>The network options a configuration asks for (network_dim, network_alpha, network_dropout, network_args).</summary>
    /// <exception cref="TrainingConfigException">A network argument is unknown or malformed.</exception>
    public static LoraNetworkOptions NetworkOptionsOf(TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var options = new LoraNetworkOptions
        {
            Dim = NetworkDim.Value(config),
            Alpha = NetworkAlpha.Value(config),
            Dropout = NetworkDropout.Value(config),
            TrainUnet = !NetworkTrainTextEncoderOnly.Value(config),
            TrainTextEncoder = !NetworkTrainUnetOnly.Value(config),
        };
        var extra = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var arg in NetworkArgs.Value(config))
        {
            var (key, value) = SplitArgument(arg) ?? throw new TrainingConfigException(NetworkArgs.Name, $"\"{arg}\" is not key=value.");
            options = key switch
            {
                "conv_dim" => options with { ConvDim = (int)ParseNumber(value, arg, TrainingConfigKeys.Rank) },
                "conv_alpha" => options with { ConvAlpha = ParseNumber(value, arg, NumericRange.PositiveFloat32) },
                "rank_dropout" => options with { RankDropout = ParseNumber(value, arg, NumericRange.DropoutRate) },
                "module_dropout" => options with { ModuleDropout = ParseNumber(value, arg, NumericRange.DropoutRate) },
                "dropout" => options with { Dropout = ParseNumber(value, arg, NumericRange.DropoutRate) },
                "algo" => options with { Algorithm = value },
                _ => options,
            };
            if (key is not ("conv_dim" or "conv_alpha" or "rank_dropout" or "module_dropout" or "dropout" or "algo"))
            {
                extra[key] = value;
            }
        }

        options = options with { AlgorithmArguments = extra };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new TrainingConfigException("network_args", e.Message, e);
        }

        return options;
    }

    /// <summary>A network argument's key and value (the value unquoted); null when it is not "key=value".</summary>
    private static (string Key, string Value)? SplitArgument(string arg)
    {
        var eq = arg.IndexOf('=', StringComparison.Ordinal);
        return eq < 0 ? null : (arg[..eq].Trim(), arg[(eq + 1)..].Trim().Trim('"', '\''));
    }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        this.context = context;
        var config = context.Config;
        var model = context.Model;
        context.CastFrozenWeights();
        var options = NetworkOptionsOf(config);
        network = LoraNetwork.Create(new LoraTargets(model.Unet, model.TextEncoder, model.TextEncoder2), options);
        if (NetworkWeights.Value(config) is { } weights)
        {
            try
            {
                KohyaLoraFormat.LoadInto(network, weights);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or CheckpointFormatException)
            {
                throw new TrainingConfigException("network_weights", $"{weights}: cannot continue from this file with the configured network ({e.Message})", e);
            }
        }

        network.train();
        network.Attach();
        return ParameterGroups(network, config);
    }

    /// <summary>
    /// A network's trainable parameters in the "text_encoder" and "unet" groups at their learning rates; a part whose
    /// rate is 0 is frozen instead.
    /// </summary>
    /// <exception cref="TrainingConfigException">Nothing is left to train.</exception>
    internal static IReadOnlyList<ParameterGroup> ParameterGroups(LoraNetwork network, TrainingConfig config)
    {
        var groups = new List<ParameterGroup>();
        var te = network.TrainableParameters(LoraComponent.TextEncoder).Concat(network.TrainableParameters(LoraComponent.TextEncoder2)).ToList();
        var teLr = config.TextEncoderLr ?? config.LearningRate;
        if (te.Count > 0 && teLr > 0)
        {
            groups.Add(new ParameterGroup("text_encoder", te, teLr));
        }
        else
        {
            FreezeAll(te);
        }

        var unet = network.TrainableParameters(LoraComponent.Unet);
        var unetLr = config.UnetLr ?? config.LearningRate;
        if (unet.Count > 0 && unetLr > 0)
        {
            groups.Add(new ParameterGroup("unet", unet, unetLr));
        }
        else
        {
            FreezeAll(unet);
        }

        if (groups.Count == 0)
        {
            throw new TrainingConfigException("learning_rate", "nothing to train: every LoRA parameter group has a learning rate of 0 or no modules.");
        }

        return groups;
    }

    /// <inheritdoc />
    public void SetTrainingMode(bool training) => Network.train(training);

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => PriorPreservationLoss.WeightedMean(perSampleLoss, samples);

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var ctx = context ?? throw new InvalidOperationException("The LoRA method is not prepared.");
        return [SaveKohyaFile(Path.Combine(folder, name + ".safetensors"), Network, ctx.PredictionType, info)];
    }

    /// <summary>
    /// Writes a network as a kohya LoRA file with the run's <c>ss_*</c> and <c>modelspec.*</c> metadata;
    /// <paramref name="metadata"/> adds or replaces training keys. Returns the path.
    /// </summary>
    internal static string SaveKohyaFile(string path, LoraNetwork network, PredictionType prediction, TrainingRunInfo info, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var r = info.Resolution;
        var training = new Dictionary<string, string>(KohyaTrainingMetadata.Build(info, DateTimeOffset.UtcNow), StringComparer.Ordinal);
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            training[key] = value;
        }

        var options = new KohyaSaveOptions
        {
            SaveDType = TrainingConfigParser.SaveDType(info.Config.SavePrecision),
            OutputName = Path.GetFileNameWithoutExtension(path),
            Resolution = string.Create(CultureInfo.InvariantCulture, $"{r.Width}x{r.Height}"),
            PredictionType = prediction,
            ClipSkip = info.Config.ClipSkip,
            TrainingMetadata = training,
        };
        KohyaLoraFormat.Save(path, network, options);
        return path;
    }

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() => StateTensors.Copies(Network);

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => StateTensors.CopyInto(Network.state_dict(), state, "LoRA network");

    /// <inheritdoc />
    public void Dispose()
    {
        network?.Detach();
        network?.Dispose();
        network = null;
    }

    private static void FreezeAll(IEnumerable<TorchSharp.Modules.Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            p.requires_grad = false;
        }
    }

    /// <summary>A numeric network argument, checked against the range it is used in.</summary>
    private static double ParseNumber(string value, string arg, NumericRange range) =>
        range.Read(value, out var number) is { } problem ? throw new TrainingConfigException("network_args", $"\"{arg}\": {problem}") : number;
}
