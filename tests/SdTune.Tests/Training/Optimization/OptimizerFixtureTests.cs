using SdTune.Checkpoints.Safetensors;
using SdTune.Training.Optimization;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Optimization;

/// <summary>
/// Each optimizer against the reference trajectories (fixture README §9): loss, gradients and parameters after each
/// of the 10 steps, compared with the float64 reference run; Prodigy's d statistics too.
/// </summary>
public class OptimizerFixtureTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => [.. OptimizerProblem.Cases];

    /// <summary>float32 run within the README's suggested tolerances.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32_run_matches_the_float64_reference(string name)
    {
        using var file = OptimizerProblem.OpenFixture();
        var run = Run(file, name, ScalarType.Float32);
        // Prodigy with the default d0 moves only 1.3e-5 in total, so its parameters need the tighter bound.
        var paramTolerance = name == "prodigy" ? 3e-7 : 2e-6;
        Check(file, name, run, paramTolerance, gradRelative: 2e-6, lossRelative: 2e-6, dRelative: 5e-3);
    }

    /// <summary>float64 run: the same arithmetic as the reference, so agreement is at the level of float64 rounding.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Float64_run_reproduces_the_reference_to_rounding(string name)
    {
        using var file = OptimizerProblem.OpenFixture();
        var run = Run(file, name, ScalarType.Float64);
        Check(file, name, run, paramTolerance: 1e-13, gradRelative: 1e-13, lossRelative: 1e-13, dRelative: 1e-10);
    }

    private void Check(SafetensorsFile file, string name, Trajectory run, double paramTolerance, double gradRelative, double lossRelative, double dRelative)
    {
        using var scope = NewDisposeScope();
        var prefix = $"output_f64.{name}";
        var loss = file.Read($"{prefix}.loss").data<double>().ToArray();
        double maxParam = 0, maxGrad = 0, maxLoss = 0;
        for (var k = 0; k < OptimizerProblem.Steps; k++)
        {
            maxLoss = Math.Max(maxLoss, Math.Abs(run.Loss[k] - loss[k]) / Math.Abs(loss[k]));
            foreach (var p in new[] { "W", "b" })
            {
                var grad = file.Read($"{prefix}.grad_{p}.{k}");
                var gradScale = Math.Max(1.0, grad.abs().max().item<double>());
                maxGrad = Math.Max(maxGrad, (run.Grads[$"{p}.{k}"] - grad).abs().max().item<double>() / gradScale);
                maxParam = Math.Max(maxParam, (run.Params[$"{p}.{k}"] - file.Read($"{prefix}.{p}.{k}")).abs().max().item<double>());
            }
        }

        output.WriteLine($"{name} {run.DType}: max |param err| {maxParam:E2}, max rel grad err {maxGrad:E2}, max rel loss err {maxLoss:E2}");
        Assert.True(maxLoss <= lossRelative, $"{name}: loss differs by {maxLoss:E2} relative (limit {lossRelative:E1}).");
        Assert.True(maxGrad <= gradRelative, $"{name}: gradients differ by {maxGrad:E2} relative (limit {gradRelative:E1}).");
        Assert.True(maxParam <= paramTolerance, $"{name}: parameters differ by {maxParam:E2} (limit {paramTolerance:E1}).");

        if (run.Prodigy is { } prodigy)
        {
            var d0 = OptimizerProblem.LearningRate(name) * prodigy["d_before"][0];
            foreach (var (key, values) in prodigy)
            {
                var reference = file.Read($"{prefix}.{key}").data<double>().ToArray();
                // d_hat is 0 at step 0 (p == p0), so errors are measured relative to the larger of the value and d0's scale.
                var scale = key is "d_numerator" or "d_denom" ? 0.0 : d0;
                var worst = values.Zip(reference, (a, r) => Math.Abs(a - r) / Math.Max(Math.Abs(r), scale)).Max();
                output.WriteLine($"  {key}: max rel err {worst:E2}");
                Assert.True(worst <= dRelative, $"{name}: Prodigy {key} differs by {worst:E2} relative (limit {dRelative:E1}).");
            }
        }
    }

    private static Trajectory Run(SafetensorsFile file, string name, ScalarType dtype)
    {
        using var x = file.Read("input.x");
        using var y = file.Read("input.y");
        var (w, b) = OptimizerProblem.StartParameters(file, dtype);
        using var _w = w;
        using var _b = b;
        using var optimizer = OptimizerProblem.Create(name, [new ParameterGroup("all", [w, b], OptimizerProblem.LearningRate(name))]);
        var run = new Trajectory(dtype);
        var prodigy = optimizer as ProdigyOptimizer;
        if (prodigy is not null)
        {
            run.Prodigy = new[] { "d_before", "d", "d_max", "d_hat", "d_numerator", "d_denom" }.ToDictionary(k => k, _ => new double[OptimizerProblem.Steps]);
        }

        for (var k = 0; k < OptimizerProblem.Steps; k++)
        {
            if (prodigy is not null)
            {
                run.Prodigy!["d_before"][k] = prodigy.D;
            }

            optimizer.ZeroGrad();
            using (var scope = NewDisposeScope())
            {
                var loss = OptimizerProblem.Loss(x, y, w, b, k);
                loss.backward();
                run.Loss[k] = loss.to(ScalarType.Float64).item<double>();
                run.Grads[$"W.{k}"] = w.grad!.to(ScalarType.Float64, copy: true).MoveToOuterDisposeScope();
                run.Grads[$"b.{k}"] = b.grad!.to(ScalarType.Float64, copy: true).MoveToOuterDisposeScope();
            }

            optimizer.Step();
            run.Params[$"W.{k}"] = w.detach().to(ScalarType.Float64, copy: true);
            run.Params[$"b.{k}"] = b.detach().to(ScalarType.Float64, copy: true);
            if (prodigy is not null)
            {
                run.Prodigy!["d"][k] = prodigy.D;
                run.Prodigy["d_max"][k] = prodigy.DMax;
                run.Prodigy["d_hat"][k] = prodigy.DHat;
                run.Prodigy["d_numerator"][k] = prodigy.DNumerator;
                run.Prodigy["d_denom"][k] = prodigy.DDenominator;
            }
        }

        return run;
    }

    private sealed class Trajectory(ScalarType dtype)
    {
        public ScalarType DType { get; } = dtype;

        public double[] Loss { get; } = new double[OptimizerProblem.Steps];

        public Dictionary<string, Tensor> Grads { get; } = [];

        public Dictionary<string, Tensor> Params { get; } = [];

        public Dictionary<string, double[]>? Prodigy { get; set; }
    }
}
