using SdTune.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>
/// AdamW: Adam with decoupled weight decay, as PyTorch's <c>torch.optim.AdamW</c> computes it (bias corrections
/// applied to the step size and to the square root of the second moment). State per parameter: <c>exp_avg</c>,
/// <c>exp_avg_sq</c>, in the parameter's dtype.
/// </summary>
public sealed class AdamWOptimizer : TrainingOptimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public AdamWOptimizer(IEnumerable<ParameterGroup> groups, AdamWOptions? options = null)
        : base(OptimizerFactory.AdamWName, groups)
    {
        Options = options ?? new AdamWOptions();
        Options.Validate();
    }

    /// <summary>The hyper-parameters.</summary>
    public AdamWOptions Options { get; }

    private protected override void InitializeState(Parameter parameter, ParameterState state)
    {
        state.Add("exp_avg", zeros_like(parameter));
        state.Add("exp_avg_sq", zeros_like(parameter));
    }

    private protected override void StepCore()
    {
        var (beta1, beta2) = (Options.Beta1, Options.Beta2);
        foreach (var (g, i, parameter, gradient) in ParametersWithGradients())
        {
            var lr = Groups[g].LearningRate;
            var state = StateOf(g, i);
            state.Step++;
            var expAvg = state["exp_avg"];
            var expAvgSq = state["exp_avg_sq"];
            using var s = new HeldScalars();

            parameter.mul_(s[TensorScalar.Saturate(1 - (lr * (Groups[g].WeightDecay ?? Options.WeightDecay)))]);
            expAvg.mul_(s[beta1]).add_(gradient, alpha: s[1 - beta1]);
            expAvgSq.mul_(s[beta2]).addcmul_(gradient, gradient, value: s[1 - beta2]);

            var biasCorrection1 = 1 - Math.Pow(beta1, state.Step);
            var biasCorrection2 = 1 - Math.Pow(beta2, state.Step);
            var denominator = expAvgSq.sqrt().div_(s[Math.Sqrt(biasCorrection2)]).add_(s[Options.Epsilon]);
            parameter.addcdiv_(expAvg, denominator, value: s[TensorScalar.Saturate(-lr / biasCorrection1)]);
        }
    }
}
