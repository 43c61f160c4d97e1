using SdTune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// Euler ancestral ("Euler a", k-diffusion <c>sample_euler_ancestral</c> with η = 1), as diffusers'
/// <c>EulerAncestralDiscreteScheduler</c>: an Euler step down to σ_down, then fresh noise of size σ_up, where
/// σ_up = √(σ_next²(σ² − σ_next²)/σ²) and σ_down = √(σ_next² − σ_up²). Draws noise at every step (the last one's
/// is multiplied by 0), so a given noise source yields diffusers' results.
/// </summary>
public sealed class EulerAncestralSampler : ISampler
{
    /// <summary>Creates an Euler ancestral sampler.</summary>
    /// <param name="schedule">The model's training schedule.</param>
    /// <param name="spacing">Timestep spacing; null takes the config's, else linspace.</param>
    public EulerAncestralSampler(NoiseSchedule schedule, TimestepSpacing? spacing = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        Schedule = schedule;
        Spacing = spacing ?? schedule.Config.TimestepSpacing ?? TimestepSpacing.Linspace;
    }

    /// <inheritdoc/>
    public string Name => "Euler a";

    /// <inheritdoc/>
    public NoiseSchedule Schedule { get; }

    /// <summary>The timestep spacing plans use.</summary>
    public TimestepSpacing Spacing { get; }

    /// <inheritdoc/>
    public SamplingPlan CreatePlan(int steps, double strength = 1.0)
    {
        SigmaSchedules.CheckSteps(steps, Schedule);
        var start = SamplingPlan.Img2ImgStartIndex(steps, strength);

        // Unlike EulerDiscreteScheduler, the ancestral scheduler keeps its timesteps in float64.
        var timesteps = SigmaSchedules.EulerTimesteps(Spacing, steps, Schedule, float32: false);
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
        var noise = SamplingLoop.RequireNoise(options, Name);
        return SamplingLoop.Run(this, plan, latents, denoise, options, (x, i) => EulerLatents.ScaleModelInput(x, plan, i), (i, x, output) =>
        {
            var sigma = (float)plan.Sigmas[i];
            var sigmaNext = (float)plan.Sigmas[i + 1];
            var x0 = EulerLatents.Denoised(x, output, sigma, Schedule.PredictionType);

            var sigmaUp = MathF.Sqrt(sigmaNext * sigmaNext * ((sigma * sigma) - (sigmaNext * sigmaNext)) / (sigma * sigma));
            var sigmaDown = MathF.Sqrt(MathF.Max((sigmaNext * sigmaNext) - (sigmaUp * sigmaUp), 0f));
            var derivative = (x - x0) / sigma;
            var next = x + (derivative * (sigmaDown - sigma));
            var fresh = noise.Next(x.shape, ScalarType.Float32, x.device);
            return (next + (fresh * sigmaUp), x0);
        });
    }
}
