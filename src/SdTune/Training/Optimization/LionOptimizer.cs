using SdTune.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>
/// Lion (EvoLved Sign Momentum): the update is lr * sign(beta1 * m + (1 - beta1) * g); then
/// m = beta2 * m + (1 - beta2) * g. Weight decay multiplies parameters by 1 - lr * weight_decay before the update,
/// as lion-pytorch does by default. State per parameter: <c>exp_avg</c>.
/// </summary>
public sealed class LionOptimizer : TrainingOptimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public LionOptimizer(IEnumerable<ParameterGroup> groups, LionOptions? options = null)
        : base(OptimizerFactory.LionName, groups)
    {
        Options = options ?? new LionOptions();
        Options.Validate();
    }

    /// <summary>The hyper-parameters.</summary>
    public LionOptions Options { get; }

    private protected override void InitializeState(Parameter parameter, ParameterState state) =>
        state.Add("exp_avg", zeros_like(parameter));

    private protected override void StepCore()
    {
        var (beta1, beta2) = (Options.Beta1, Options.Beta2);
        foreach (var (g, i, parameter, gradient) in ParametersWithGradients())
        {
            var lr = Groups[g].LearningRate;
            var state = StateOf(g, i);
            state.Step++;
            var expAvg = state["exp_avg"];
            using var s = new HeldScalars();

            parameter.mul_(s[TensorScalar.Saturate(1 - (lr * (Groups[g].WeightDecay ?? Options.WeightDecay)))]);
            var direction = expAvg.mul(s[beta1]).add_(gradient, alpha: s[1 - beta1]).sign_();
            parameter.add_(direction, alpha: s[-lr]);
            expAvg.mul_(s[beta2]).add_(gradient, alpha: s[1 - beta2]);
        }
    }
}
