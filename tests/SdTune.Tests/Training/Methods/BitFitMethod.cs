using SdTune.Checkpoints;
using SdTune.Options;
using SdTune.Training;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

/// <summary>
/// A method that exists only in the test project, to show that a method is one file plus a registration: BitFit
/// (Ben Zaken et al., 2021), which trains the UNet's bias vectors only and saves the whole model. Its two keys, its
/// checks, its output and its benchmark row are all declared here.
/// </summary>
internal sealed class BitFitMethod : ITrainingMethod
{
    /// <summary>Which biases are trained: "all" of the UNet's, or those of its "attention" layers.</summary>
    public static readonly TrainingOption<string> Scope = TrainingOption.Text("bitfit_scope", "all", "Biases to train: all or attention.");

    /// <summary>A factor on the learning rate for the biases.</summary>
    public static readonly TrainingOption<double> LrScale = TrainingOption.Real("bitfit_lr_scale", 1.0, NumericRange.PositiveFloat32, "Learning-rate factor for the biases.");

    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "bitfit",
        Summary = "BitFit: train the UNet's biases only.",
        Create = () => new BitFitMethod(),
        Options = [Scope, LrScale],
        Validate = c =>
        {
            if (Scope.Value(c) is not ("all" or "attention"))
            {
                throw new TrainingConfigException("bitfit_scope", $"\"{Scope.Value(c)}\": use all or attention.");
            }
        },
        Trains = _ => new TrainedParts(Unet: true, TextEncoder: false, TextEncoderToTheEnd: false),
        Output = TrainedOutput.Model,
        Benchmarks = [new("bitfit", "BitFit (UNet biases)", (c, _) => c.With(LrScale, 10.0) with { LearningRate = 1e-3 })],
    };

    private readonly List<(string Name, Parameter Parameter)> biases = [];
    private TrainingContext? context;

    public string Name => "bitfit";

    public bool TrainsTextEncoder => false;

    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        this.context = context;
        var scope = Scope.Value(context.Config);
        context.Model.Unet.to(ScalarType.Float32);
        foreach (var (name, parameter) in context.Model.Unet.named_parameters())
        {
            if (name.EndsWith(".bias", StringComparison.Ordinal) && (scope == "all" || name.Contains(".attn", StringComparison.Ordinal)))
            {
                parameter.requires_grad = true;
                biases.Add((name, parameter));
            }
        }

        return [new ParameterGroup("unet", biases.Select(b => b.Parameter), context.Config.LearningRate * LrScale.Value(context.Config))];
    }

    public void SetTrainingMode(bool training) => context?.Model.Unet.train(training);

    public void BeforeStep(TrainingStepInfo step)
    {
    }

    public void AfterStep(TrainingStepInfo step)
    {
    }

    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => perSampleLoss.mean();

    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        var path = Path.Combine(folder, name);
        DiffusersPipelineFormat.Save(context!.Model, path);
        return [path];
    }

    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() =>
        [.. biases.Select(b => new KeyValuePair<string, Tensor>(b.Name, b.Parameter.detach().clone()))];

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in biases)
        {
            parameter.copy_(state[name]);
        }
    }

    public void Dispose() => biases.Clear();
}
