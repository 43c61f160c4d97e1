using SdTune.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>
/// Prodigy (Mishchenko &amp; Defazio 2023, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner"): Adam whose
/// step size d is estimated on the fly from how far the parameters moved from their start (<c>p0</c>) along the
/// gradients, as the prodigyopt library computes it. d is shared by all groups; each group's learning rate must be
/// the same or 0 (a frozen group). State per parameter: <c>exp_avg</c>, <c>exp_avg_sq</c>, <c>s</c>, <c>p0</c>
/// (a 0-d zero for parameters that start all-zero, to save memory); optimizer-wide: d, d_max, d_hat,
/// d_numerator, d_denom and the step count k.
/// </summary>
public sealed class ProdigyOptimizer : TrainingOptimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <exception cref="ArgumentException">An option is out of range, or two groups have different non-zero learning rates.</exception>
    public ProdigyOptimizer(IEnumerable<ParameterGroup> groups, ProdigyOptions? options = null)
        : base(OptimizerFactory.ProdigyName, groups)
    {
        Options = options ?? new ProdigyOptions();
        Options.Validate();
        CheckSharedLearningRate(Groups.Select(g => g.InitialLearningRate));
        D = Options.D0;
        DMax = Options.D0;
    }

    /// <summary>The hyper-parameters.</summary>
    public ProdigyOptions Options { get; }

    /// <summary>The current step-size estimate d (starts at d0).</summary>
    public double D { get; private set; }

    /// <summary>The largest d-estimate seen so far.</summary>
    public double DMax { get; private set; }

    /// <summary>The latest raw estimate d_hat = d_coef * d_numerator / d_denom (0 before the first step).</summary>
    public double DHat { get; private set; }

    /// <summary>The running numerator of the estimate.</summary>
    public double DNumerator { get; private set; }

    /// <summary>The latest denominator of the estimate (the sum of |s|).</summary>
    public double DDenominator { get; private set; }

    /// <summary>Number of completed steps (k).</summary>
    public long StepCount { get; private set; }

    /// <summary>The step size the next step will apply: d * lr, times Adam's bias correction when enabled.</summary>
    public double EffectiveLearningRate => D * Groups.Max(g => g.LearningRate) * BiasCorrection(StepCount);

    private protected override void InitializeState(Parameter parameter, ParameterState state)
    {
        state.Add("exp_avg", zeros_like(parameter));
        state.Add("exp_avg_sq", zeros_like(parameter));
        state.Add("s", zeros_like(Sliced(parameter)));
        // An all-zero start (e.g. a LoRA up-projection) needs no copy: p0 - p equals -p either way.
        state.Add("p0", parameter.any().item<bool>() ? Sliced(parameter).clone() : zeros([], parameter.dtype, parameter.device));
    }

    private protected override bool AcceptsAnyShape(string tensorName) => tensorName == "p0";

    private protected override IEnumerable<KeyValuePair<string, double>> GetScalars() =>
    [
        new("d", D), new("d_max", DMax), new("d_hat", DHat), new("d_numerator", DNumerator), new("d_denom", DDenominator),
        new("k", StepCount),
    ];

    private protected override void SetScalars(IReadOnlyDictionary<string, double> values)
    {
        D = values["d"];
        DMax = values["d_max"];
        DHat = values["d_hat"];
        DNumerator = values["d_numerator"];
        DDenominator = values["d_denom"];
        StepCount = checked((long)values["k"]);
    }

    private protected override void StepCore()
    {
        var lr = Groups.Max(g => g.LearningRate);
        CheckSharedLearningRate(Groups.Select(g => g.LearningRate));
        var (beta1, beta2, beta3) = (Options.Beta1, Options.Beta2, Options.EffectiveBeta3);
        var (d, d0) = (D, Options.D0);
        var dlr = d * lr * BiasCorrection(StepCount);

        // Pass 1: moments and the running sums of the d estimate.
        var numerator = DNumerator * beta3;
        var denominator = 0.0;
        var updated = new List<(Parameter Parameter, ParameterState State, double Decay)>();
        foreach (var (g, i, parameter, rawGradient) in ParametersWithGradients())
        {
            var decay = Groups[g].WeightDecay ?? Options.WeightDecay;
            using var k = new HeldScalars();
            var gradient = decay != 0 && !Options.Decouple ? rawGradient.add(parameter, alpha: k[decay]) : rawGradient;
            var state = StateOf(g, i);
            updated.Add((parameter, state, decay));
            if (Groups[g].LearningRate <= 0)
            {
                continue;
            }

            var slicedGradient = Sliced(gradient);
            var s = state["s"];
            numerator += d / d0 * dlr * TensorScalar.ToDouble(slicedGradient.dot(state["p0"] - Sliced(parameter)));
            state["exp_avg"].mul_(k[beta1]).add_(gradient, alpha: k[TensorScalar.Saturate(d * (1 - beta1))]);
            state["exp_avg_sq"].mul_(k[beta2]).addcmul_(gradient, gradient, value: k[TensorScalar.Saturate(d * d * (1 - beta2))]);
            s.mul_(k[beta3]).add_(slicedGradient, alpha: k[TensorScalar.Saturate(d / d0 * (Options.SafeguardWarmup ? d : dlr))]);
            denominator += TensorScalar.ToDouble(s.abs().sum());
        }

        // No gradient signal at all (or every rate is 0): nothing moves and the estimate is kept.
        if (denominator == 0)
        {
            return;
        }

        var dHat = Options.DCoefficient * numerator / denominator;
        var dMax = DMax;
        if (d == d0)
        {
            d = Math.Max(d, dHat);
        }

        dMax = Math.Max(dMax, dHat);
        d = Math.Min(dMax, d * Options.GrowthRate);
        (D, DMax, DHat, DNumerator, DDenominator) = (d, dMax, dHat, numerator, denominator);

        // Pass 2: the Adam step with step size dlr (from the d the moments were built with).
        foreach (var (parameter, state, decay) in updated)
        {
            // The denominator is parameter-sized: freed before the next parameter's, as in pass 1.
            using var scope = NewDisposeScope();
            state.Step++;
            using var k = new HeldScalars();
            var denom = state["exp_avg_sq"].sqrt().add_(k[TensorScalar.Saturate(d * Options.Epsilon)]);
            if (decay != 0 && Options.Decouple)
            {
                parameter.add_(parameter, alpha: k[TensorScalar.Saturate(-decay * dlr)]);
            }

            parameter.addcdiv_(state["exp_avg"], denom, value: k[TensorScalar.Saturate(-dlr)]);
        }

        StepCount++;
    }

    private double BiasCorrection(long k) =>
        Options.UseBiasCorrection ? Math.Sqrt(1 - Math.Pow(Options.Beta2, k + 1)) / (1 - Math.Pow(Options.Beta1, k + 1)) : 1.0;

    private Tensor Sliced(Tensor tensor)
    {
        var flat = tensor.flatten();
        return Options.SliceP == 1 ? flat : flat.slice(0, 0, flat.shape[0], Options.SliceP);
    }

    private void CheckSharedLearningRate(IEnumerable<double> rates)
    {
        var nonZero = rates.Where(r => r != 0).Distinct().ToList();
        if (nonZero.Count > 1)
        {
            var list = string.Join(", ", Groups.Select(g => $"'{g.Name}' = {g.LearningRate}"));
            throw new ArgumentException($"Prodigy shares one step size across parameter groups: their learning rates must be equal or 0, but they are {list}.");
        }
    }
}
