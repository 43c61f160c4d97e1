using SdTune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// Euler (Karras et al. 2022, algorithm 2 without churn), as diffusers' <c>EulerDiscreteScheduler</c>: the model
/// sees x/√(σ² + 1), x̂₀ = x − σ·ε̂, and x ← x + (x − x̂₀)/σ · (σ_next − σ). Deterministic.
/// </summary>
public sealed class EulerSampler : ISampler
{
    /// <summary>Creates an Euler sampler.</summary>
    /// <param name="schedule">The model's training schedule.</param>
    /// <param name="spacing">Timestep spacing; null takes the config's, else linspace.</param>
    public EulerSampler(NoiseSchedule schedule, TimestepSpacing? spacing = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        Schedule = schedule;
        Spacing = spacing ?? schedule.Config.TimestepSpacing ?? TimestepSpacing.Linspace;
    }

    /// <inheritdoc/>
    public string Name => "Euler";

    /// <inheritdoc/>
    public NoiseSchedule Schedule { get; }

    /// <summary>The timestep spacing plans use.</summary>
    public TimestepSpacing Spacing { get; }

    /// <inheritdoc/>
    public SamplingPlan CreatePlan(int steps, double strength = 1.0)
    {
        SigmaSchedules.CheckSteps(steps, Schedule);
        var start = SamplingPlan.Img2ImgStartIndex(steps, strength);
        var timesteps = SigmaSchedules.EulerTimesteps(Spacing, steps, Schedule, float32: true);
        SigmaSchedules.CheckTimesteps(timesteps, steps, Schedule, Spacing);
        var sigmas = SigmaSchedules.InterpolatedSigmas(timesteps, Schedule);
        return new SamplingPlan(Name, timesteps, sigmas, SigmaSchedules.EulerInitNoiseSigma(sigmas, Spacing), start, steps);
    }

    /// <inheritdoc/>
    public Tensor PrepareLatents(SamplingPlan plan, Tensor noise, Tensor? initLatents = null) =>
        EulerLatents.Prepare(this, plan, noise, initLatents);

    /// <inheritdoc/>
    public Tensor Sample(SamplingPlan plan, Tensor latents, Denoiser denoise, SamplerRunOptions? options = null)
    {
        SamplingLoop.CheckPlan(this, plan);
        return SamplingLoop.Run(this, plan, latents, denoise, options, (x, i) => EulerLatents.ScaleModelInput(x, plan, i), (i, x, output) =>
        {
            var sigma = (float)plan.Sigmas[i];
            var sigmaNext = (float)plan.Sigmas[i + 1];
            var x0 = EulerLatents.Denoised(x, output, sigma, Schedule.PredictionType);
            var derivative = (x - x0) / sigma;
            return (x + (derivative * (sigmaNext - sigma)), x0);
        });
    }
}
