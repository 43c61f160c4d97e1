using SdTune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// DDIM (Song et al. 2021), as diffusers' <c>DDIMScheduler</c>: x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·ε̂ + σ·z with
/// σ = η·√((1 − ᾱ_prev)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev). η = 0 is deterministic; η &gt; 0 draws z each step.
/// The previous timestep is always <c>t − T/steps</c> (diffusers' rule, whatever the spacing); past the first
/// timestep ᾱ_prev is 1 if <c>set_alpha_to_one</c> else ᾱ₀.
/// </summary>
public sealed class DdimSampler : ISampler
{
    /// <summary>Creates a DDIM sampler.</summary>
    /// <param name="schedule">The model's training schedule (its config supplies prediction type, clip_sample, set_alpha_to_one).</param>
    /// <param name="eta">η ≥ 0: 0 for DDIM proper, 1 for DDPM-like ancestral sampling.</param>
    /// <param name="spacing">Timestep spacing; null takes the config's, else leading.</param>
    /// <exception cref="ArgumentOutOfRangeException">η is negative or not finite.</exception>
    public DdimSampler(NoiseSchedule schedule, double eta = 0, TimestepSpacing? spacing = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (!(eta >= 0) || double.IsInfinity(eta))
        {
            throw new ArgumentOutOfRangeException(nameof(eta), eta, "DDIM eta must be a finite number >= 0.");
        }

        Schedule = schedule;
        Eta = eta;
        Spacing = spacing ?? schedule.Config.TimestepSpacing ?? TimestepSpacing.Leading;
        FinalAlphaCumprod = schedule.Config.SetAlphaToOne ?? true ? 1f : schedule.AlphaCumprodAt(0);
    }

    /// <inheritdoc/>
    public string Name => "DDIM";

    /// <inheritdoc/>
    public NoiseSchedule Schedule { get; }

    /// <summary>η: how much fresh noise each step adds (0 = deterministic).</summary>
    public double Eta { get; }

    /// <summary>The timestep spacing plans use.</summary>
    public TimestepSpacing Spacing { get; }

    /// <summary>ᾱ used for the step after timestep 0 (diffusers' <c>final_alpha_cumprod</c>).</summary>
    public float FinalAlphaCumprod { get; }

    /// <inheritdoc/>
    public SamplingPlan CreatePlan(int steps, double strength = 1.0)
    {
        SigmaSchedules.CheckSteps(steps, Schedule);
        var start = SamplingPlan.Img2ImgStartIndex(steps, strength);
        var timesteps = ScheduleMath.DiscreteTimesteps(Spacing, steps, Schedule.NumTrainTimesteps, Schedule.Config.StepsOffset);
        SigmaSchedules.CheckTimesteps(timesteps, steps, Schedule, Spacing);

        var sigmas = new double[steps + 1];
        for (var i = 0; i < steps; i++)
        {
            sigmas[i] = SigmaOf(Schedule.AlphaCumprodAt((int)timesteps[i]));
        }

        sigmas[steps] = SigmaOf(FinalAlphaCumprod);
        return new SamplingPlan(Name, timesteps, sigmas, 1.0, start, steps);
    }

    /// <inheritdoc/>
    public Tensor PrepareLatents(SamplingPlan plan, Tensor noise, Tensor? initLatents = null)
    {
        SamplingLoop.CheckPlan(this, plan);
        SamplingLoop.CheckPrepareInputs(plan, noise, initLatents);
        if (initLatents is null)
        {
            return noise.to(ScalarType.Float32, copy: true);
        }

        using var scope = NewDisposeScope();
        var t = torch.full(initLatents.shape[0], (long)plan.Timesteps[plan.StartIndex], dtype: ScalarType.Int64, device: initLatents.device);
        return Schedule.AddNoise(initLatents.to(ScalarType.Float32), noise.to(ScalarType.Float32), t).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor Sample(SamplingPlan plan, Tensor latents, Denoiser denoise, SamplerRunOptions? options = null)
    {
        SamplingLoop.CheckPlan(this, plan);
        var noise = Eta > 0 ? SamplingLoop.RequireNoise(options, Name) : null;
        var ratio = Schedule.NumTrainTimesteps / plan.StepCount;
        var clip = Schedule.Config.ClipSample ?? true;
        var clipRange = Schedule.Config.ClipSampleRange;
        var eta = (float)Eta;

        return SamplingLoop.Run(this, plan, latents, denoise, options, (x, _) => x.alias(), (i, x, output) =>
        {
            var t = (int)plan.Timesteps[i];
            var previous = t - ratio;
            var alphaBar = Schedule.AlphaCumprodAt(t);
            var alphaBarPrev = previous >= 0 ? Schedule.AlphaCumprodAt(previous) : FinalAlphaCumprod;
            var beta = 1f - alphaBar;
            var sqrtAlpha = MathF.Sqrt(alphaBar);
            var sqrtBeta = MathF.Sqrt(beta);

            var (x0, epsilon) = Schedule.PredictionType switch
            {
                PredictionType.Epsilon => ((x - (sqrtBeta * output)) / sqrtAlpha, output),
                PredictionType.Sample => (output, (x - (sqrtAlpha * output)) / sqrtBeta),
                PredictionType.VPrediction => ((sqrtAlpha * x) - (sqrtBeta * output), (sqrtAlpha * output) + (sqrtBeta * x)),
                var other => throw new InvalidOperationException($"Unknown prediction type {other}."),
            };

            if (clip)
            {
                x0 = x0.clamp(-clipRange, clipRange);
            }

            var variance = (1f - alphaBarPrev) / beta * (1f - (alphaBar / alphaBarPrev));
            var std = eta * MathF.Sqrt(variance);
            var next = (MathF.Sqrt(alphaBarPrev) * x0) + (MathF.Sqrt(1f - alphaBarPrev - (std * std)) * epsilon);
            if (noise is not null)
            {
                next = next + (std * noise.Next(x.shape, ScalarType.Float32, x.device));
            }

            return (next, x0);
        });
    }

    private static double SigmaOf(float alphaBar) => MathF.Sqrt((1f - alphaBar) / alphaBar);
}
