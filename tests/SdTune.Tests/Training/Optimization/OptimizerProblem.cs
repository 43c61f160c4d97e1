using System.Text.Json;
using SdTune.Checkpoints.Safetensors;
using SdTune.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Optimization;

/// <summary>
/// The reference optimizer problem (fixture README §9): W (8,6), b (6,), loss_k = sum((x[k] @ W + b - y[k])^2),
/// 10 steps. Builds each case's optimizer from the hyper-parameters stored in optimizers.config.json.
/// </summary>
internal static class OptimizerProblem
{
    public const int Steps = 10;

    public static readonly string[] Cases = ["adamw", "lion", "adafactor", "prodigy", "prodigy_d0_1e-4"];

    private static readonly Lazy<JsonDocument> Config = new(() =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("optimizers.config.json"))));

    public static SafetensorsFile OpenFixture() => SafetensorsFile.Open(TestPaths.Fixture("optimizers.safetensors"));

    /// <summary>The optimizer of a case over the given groups, built through the factory from the reference hyper-parameters.</summary>
    public static TrainingOptimizer Create(string name, IReadOnlyList<ParameterGroup> groups)
    {
        var h = Config.Value.RootElement.GetProperty("hyperparameters").GetProperty(name);
        double D(string key) => h.GetProperty(key).GetDouble();
        double Beta(int i) => h.GetProperty("betas")[i].GetDouble();
        return name switch
        {
            "adamw" => OptimizerFactory.Create("adamw", groups, new AdamWOptions
            {
                Beta1 = Beta(0), Beta2 = Beta(1), Epsilon = D("eps"), WeightDecay = D("weight_decay"),
            }),
            "lion" => OptimizerFactory.Create("LION", groups, new LionOptions
            {
                Beta1 = Beta(0), Beta2 = Beta(1), WeightDecay = D("weight_decay"),
            }),
            "adafactor" => OptimizerFactory.Create("AdaFactor", groups, new AdafactorOptions
            {
                Epsilon1 = h.GetProperty("eps")[0].GetDouble(),
                Epsilon2 = h.GetProperty("eps")[1].GetDouble(),
                ClipThreshold = D("clip_threshold"),
                DecayRate = D("decay_rate"),
                Beta1 = h.GetProperty("beta1").ValueKind == JsonValueKind.Null ? null : D("beta1"),
                WeightDecay = D("weight_decay"),
                ScaleParameter = h.GetProperty("scale_parameter").GetBoolean(),
                RelativeStep = h.GetProperty("relative_step").GetBoolean(),
                WarmupInit = h.GetProperty("warmup_init").GetBoolean(),
            }),
            _ => OptimizerFactory.Create("Prodigy", groups, new ProdigyOptions
            {
                Beta1 = Beta(0),
                Beta2 = Beta(1),
                Beta3 = h.GetProperty("beta3").ValueKind == JsonValueKind.Null ? null : D("beta3"),
                Epsilon = D("eps"),
                WeightDecay = D("weight_decay"),
                Decouple = h.GetProperty("decouple").GetBoolean(),
                UseBiasCorrection = h.GetProperty("use_bias_correction").GetBoolean(),
                SafeguardWarmup = h.GetProperty("safeguard_warmup").GetBoolean(),
                D0 = D("d0"),
                DCoefficient = D("d_coef"),
                GrowthRate = h.GetProperty("growth_rate").ValueKind == JsonValueKind.String ? NonFinite(h.GetProperty("growth_rate").GetString()!) : D("growth_rate"),
                SliceP = h.GetProperty("slice_p").GetInt32(),
            }),
        };
    }

    /// <summary>The config writes non-finite floats as Python spells them ("inf").</summary>
    private static double NonFinite(string text) => text switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => throw new FormatException($"optimizers.config.json: unexpected number '{text}'."),
    };

    /// <summary>The reference learning rate of a case.</summary>
    public static double LearningRate(string name) =>
        Config.Value.RootElement.GetProperty("hyperparameters").GetProperty(name).GetProperty("lr").GetDouble();

    /// <summary>Fresh parameters W, b at the fixture's start values, in <paramref name="dtype"/>.</summary>
    public static (Parameter W, Parameter B) StartParameters(SafetensorsFile file, ScalarType dtype)
    {
        using var w = file.Read("input.W0", dtype);
        using var b = file.Read("input.b0", dtype);
        return (new Parameter(w.clone()), new Parameter(b.clone()));
    }

    /// <summary>loss_k for step k; x and y cast to the parameters' dtype.</summary>
    public static Tensor Loss(Tensor x, Tensor y, Parameter w, Parameter b, int k) =>
        (x[k].to(w.dtype).matmul(w) + b - y[k].to(w.dtype)).square().sum();

    /// <summary>One reference step: zero_grad, loss, backward, step. Returns the loss before the step.</summary>
    public static double Step(IStatefulOptimizer optimizer, Tensor x, Tensor y, Parameter w, Parameter b, int k)
    {
        optimizer.ZeroGrad();
        using var scope = NewDisposeScope();
        var loss = Loss(x, y, w, b, k);
        loss.backward();
        var value = loss.to(ScalarType.Float64).item<double>();
        optimizer.Step();
        return value;
    }
}
