using SdTune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// The variance-exploding latents of the Euler family (x = x₀ + σ·ε): preparing them, scaling them for the model
/// and reading x̂₀ from a model output.
/// </summary>
internal static class EulerLatents
{
    /// <summary>txt2img: noise · init_noise_sigma; img2img: init + σ_start · noise (diffusers' Euler <c>add_noise</c>).</summary>
    public static Tensor Prepare(ISampler sampler, SamplingPlan plan, Tensor noise, Tensor? initLatents)
    {
        SamplingLoop.CheckPlan(sampler, plan);
        SamplingLoop.CheckPrepareInputs(plan, noise, initLatents);
        using var scope = NewDisposeScope();
        var unit = noise.to(ScalarType.Float32);
        var result = initLatents is null
            ? unit * (float)plan.InitNoiseSigma
            : initLatents.to(ScalarType.Float32) + (unit * (float)plan.Sigmas[plan.StartIndex]);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The model sees x/√(σ² + 1), which has unit variance.</summary>
    public static Tensor ScaleModelInput(Tensor x, SamplingPlan plan, int index)
    {
        var sigma = (float)plan.Sigmas[index];
        return x / MathF.Sqrt((sigma * sigma) + 1f);
    }

    /// <summary>x̂₀ from the model output at noise level σ (the input was scaled by <see cref="ScaleModelInput"/>).</summary>
    public static Tensor Denoised(Tensor x, Tensor output, float sigma, PredictionType predictionType) => predictionType switch
    {
        PredictionType.Epsilon => x - (sigma * output),
        PredictionType.VPrediction => (output * (-sigma / MathF.Sqrt((sigma * sigma) + 1f))) + (x / ((sigma * sigma) + 1f)),
        PredictionType.Sample => output.alias(),
        var other => throw new InvalidOperationException($"Unknown prediction type {other}."),
    };
}
