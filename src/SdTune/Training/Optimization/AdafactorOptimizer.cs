using SdTune.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>
/// Adafactor (Shazeer &amp; Stern 2018) as the transformers library computes it: for parameters with two or more
/// dimensions the second moment is factored into running means over the last dimension (<c>exp_avg_sq_row</c>) and
/// over the second-to-last (<c>exp_avg_sq_col</c>); other parameters keep a full <c>exp_avg_sq</c>. The update is
/// clipped to a root-mean-square of <see cref="AdafactorOptions.ClipThreshold"/>. Half-precision parameters are
/// updated in float32 and copied back; the state is float32 for them.
/// </summary>
public sealed class AdafactorOptimizer : TrainingOptimizer
{
    /// <summary>Creates the optimizer.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public AdafactorOptimizer(IEnumerable<ParameterGroup> groups, AdafactorOptions? options = null)
        : base(OptimizerFactory.AdafactorName, groups)
    {
        Options = options ?? new AdafactorOptions();
        Options.Validate();
    }

    /// <summary>The hyper-parameters.</summary>
    public AdafactorOptions Options { get; }

    /// <summary>The step size for a parameter at step <paramref name="step"/> (1-based) whose root-mean-square is <paramref name="parameterRms"/>.</summary>
    /// <param name="groupLearningRate">The group's learning rate (unused with relative steps).</param>
    /// <param name="step">The parameter's step count, including the current step.</param>
    /// <param name="parameterRms">Root-mean-square of the parameter before the update.</param>
    public double StepSize(double groupLearningRate, long step, double parameterRms)
    {
        var size = groupLearningRate;
        if (Options.RelativeStep)
        {
            var minStep = Options.WarmupInit ? 1e-6 * step : 1e-2;
            size = Math.Min(minStep, 1.0 / Math.Sqrt(step));
        }

        var scale = Options.ScaleParameter ? Math.Max(Options.Epsilon2, parameterRms) : 1.0;
        return scale * size;
    }

    private protected override void InitializeState(Parameter parameter, ParameterState state)
    {
        var dtype = ComputeType(parameter.dtype);
        var shape = parameter.shape;
        if (Options.Beta1 is not null)
        {
            state.Add("exp_avg", zeros(shape, dtype, parameter.device));
        }

        if (IsFactored(shape))
        {
            state.Add("exp_avg_sq_row", zeros(shape[..^1], dtype, parameter.device));
            state.Add("exp_avg_sq_col", zeros([.. shape[..^2], shape[^1]], dtype, parameter.device));
        }
        else
        {
            state.Add("exp_avg_sq", zeros(shape, dtype, parameter.device));
        }
    }

    private protected override void StepCore()
    {
        foreach (var (g, i, parameter, rawGradient) in ParametersWithGradients())
        {
            var state = StateOf(g, i);
            var computeType = ComputeType(parameter.dtype);
            var gradient = rawGradient.to(computeType);
            var value = parameter.dtype == computeType ? parameter : parameter.to(computeType);

            state.Step++;
            var rms = Options.ScaleParameter ? TensorScalar.ToDouble(RootMeanSquare(value)) : 0.0;
            var lr = StepSize(Groups[g].LearningRate, state.Step, rms);
            var beta2t = 1.0 - Math.Pow(state.Step, Options.DecayRate);

            using var s = new HeldScalars();
            var update = gradient.square().add_(s[Options.Epsilon1]);
            if (IsFactored(parameter.shape))
            {
                var row = state["exp_avg_sq_row"];
                var col = state["exp_avg_sq_col"];
                row.mul_(s[beta2t]).add_(update.mean([-1]), alpha: s[1.0 - beta2t]);
                col.mul_(s[beta2t]).add_(update.mean([-2]), alpha: s[1.0 - beta2t]);
                update = ApproximateInverseRoot(row, col).mul_(gradient);
            }
            else
            {
                var full = state["exp_avg_sq"];
                full.mul_(s[beta2t]).add_(update, alpha: s[1.0 - beta2t]);
                update = full.rsqrt().mul_(gradient);
            }

            update.div_(RootMeanSquare(update).div_(s[Options.ClipThreshold]).clamp_min_(s[1.0]));
            update.mul_(s[lr]);
            if (Options.Beta1 is { } beta1)
            {
                var expAvg = state["exp_avg"];
                expAvg.mul_(s[beta1]).add_(update, alpha: s[1 - beta1]);
                update = expAvg;
            }

            var decay = Groups[g].WeightDecay ?? Options.WeightDecay;
            if (decay != 0)
            {
                value.add_(value, alpha: s[TensorScalar.Saturate(-decay * lr)]);
            }

            value.sub_(update);
            if (!ReferenceEquals(value, parameter))
            {
                parameter.copy_(value);
            }
        }
    }

    private static bool IsFactored(long[] shape) => shape.Length >= 2;

    private static ScalarType ComputeType(ScalarType type) =>
        type is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : type;

    private static Tensor RootMeanSquare(Tensor tensor) => tensor.norm() / Math.Sqrt(tensor.numel());

    /// <summary>1/sqrt(v) for the rank-1 estimate v = row * col / mean(row) of the second moment.</summary>
    private static Tensor ApproximateInverseRoot(Tensor row, Tensor col)
    {
        var rowFactor = (row / row.mean([-1], keepdim: true)).rsqrt_().unsqueeze(-1);
        var colFactor = col.unsqueeze(-2).rsqrt();
        return rowFactor.mul(colFactor);
    }
}
