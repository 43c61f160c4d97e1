using SdTune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022), as diffusers' <c>DPMSolverMultistepScheduler(algorithm_type="dpmsolver++",
/// solver_order=2, solver_type="midpoint", lower_order_final=True, final_sigmas_type="zero")</c>, optionally on
/// Karras sigmas (ρ = 7). Works on variance-preserving latents (init noise σ = 1): with α = 1/√(σ² + 1) and
/// λ = log(α/(σα)), each step is
/// x ← (σ'α'/σα)·x − α'(e^{−h} − 1)·(D + ½(D − D_prev)/r), h = λ' − λ, r = h_prev/h. The first step of a run and the
/// last step (which lands on σ = 0) are first order.
/// </summary>
public sealed class DpmPlusPlus2MSampler : ISampler
{
    /// <summary>Creates a DPM++ 2M sampler.</summary>
    /// <param name="schedule">The model's training schedule.</param>
    /// <param name="karras">Use Karras sigmas (A1111's "DPM++ 2M Karras").</param>
    /// <param name="spacing">Timestep spacing without Karras sigmas; null takes the config's, else linspace.</param>
    public DpmPlusPlus2MSampler(NoiseSchedule schedule, bool karras, TimestepSpacing? spacing = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        Schedule = schedule;
        Karras = karras;
        Spacing = spacing ?? schedule.Config.TimestepSpacing ?? TimestepSpacing.Linspace;
    }

    /// <inheritdoc/>
    public string Name => Karras ? "DPM++ 2M Karras" : "DPM++ 2M";

    /// <inheritdoc/>
    public NoiseSchedule Schedule { get; }

    /// <summary>Whether plans use Karras sigmas (then timesteps are the rounded timesteps of those sigmas).</summary>
    public bool Karras { get; }

    /// <summary>The timestep spacing plans use without Karras sigmas.</summary>
    public TimestepSpacing Spacing { get; }

    /// <inheritdoc/>
    public SamplingPlan CreatePlan(int steps, double strength = 1.0)
    {
        SigmaSchedules.CheckSteps(steps, Schedule);
        var start = SamplingPlan.Img2ImgStartIndex(steps, strength);
        double[] timesteps;
        double[] sigmas;
        if (Karras)
        {
            var table = Schedule.Sigmas;
            var karras = ScheduleMath.KarrasSigmas(table[0], table[^1], steps);
            var logSigmas = SigmaSchedules.LogSigmas(Schedule);
            timesteps = [.. karras.Select(s => ScheduleMath.Round(ScheduleMath.SigmaToTimestep(s, logSigmas)))];
            sigmas = [.. karras.Select(s => (double)(float)s), 0.0];
        }
        else
        {
            // Leading and linspace lay out steps + 1 points and drop the one nearest 0.
            timesteps = ScheduleMath.DiscreteTimesteps(
                Spacing, steps, Schedule.NumTrainTimesteps, Schedule.Config.StepsOffset, extraPoint: Spacing != TimestepSpacing.Trailing);
            SigmaSchedules.CheckTimesteps(timesteps, steps, Schedule, Spacing);
            sigmas = SigmaSchedules.InterpolatedSigmas(timesteps, Schedule);
        }

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
        var level = Level.Of((float)plan.Sigmas[plan.StartIndex]);
        var result = (level.Alpha * initLatents.to(ScalarType.Float32)) + (level.Sigma * noise.to(ScalarType.Float32));
        return result.MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor Sample(SamplingPlan plan, Tensor latents, Denoiser denoise, SamplerRunOptions? options = null)
    {
        SamplingLoop.CheckPlan(this, plan);
        Tensor? previousDenoised = null;
        try
        {
            return SamplingLoop.Run(this, plan, latents, denoise, options, (x, _) => x.alias(), (i, x, output) =>
            {
                var current = Level.Of((float)plan.Sigmas[i]);
                var target = Level.Of((float)plan.Sigmas[i + 1]);
                var denoised = current.Denoised(x, output, Schedule.PredictionType);

                var h = target.Lambda - current.Lambda;
                var decay = target.Alpha * (MathF.Exp(-h) - 1f);
                var firstOrder = previousDenoised is null || i == plan.StepCount - 1;
                Tensor next;
                if (firstOrder)
                {
                    next = (target.Sigma / current.Sigma * x) - (decay * denoised);
                }
                else
                {
                    var previous = Level.Of((float)plan.Sigmas[i - 1]);
                    var r = (current.Lambda - previous.Lambda) / h;
                    var correction = 1f / r * (denoised - previousDenoised!);
                    next = (target.Sigma / current.Sigma * x) - (decay * denoised) - (0.5f * decay * correction);
                }

                // The x̂₀ history outlives the step's dispose scope.
                previousDenoised?.Dispose();
                previousDenoised = denoised.detach().MoveToOuterDisposeScope();
                return (next, denoised);
            });
        }
        finally
        {
            previousDenoised?.Dispose();
        }
    }

    /// <summary>A noise level in variance-preserving terms: α = 1/√(σ² + 1), σ_vp = σ·α, λ = log α − log σ_vp (float32 as diffusers).</summary>
    private readonly record struct Level(float Alpha, float Sigma, float Lambda)
    {
        public static Level Of(float sigma)
        {
            var alpha = 1f / MathF.Sqrt((sigma * sigma) + 1f);
            var vpSigma = sigma * alpha;
            return new Level(alpha, vpSigma, MathF.Log(alpha) - MathF.Log(vpSigma));
        }

        public Tensor Denoised(Tensor x, Tensor output, PredictionType predictionType) => predictionType switch
        {
            PredictionType.Epsilon => (x - (Sigma * output)) / Alpha,
            PredictionType.VPrediction => (Alpha * x) - (Sigma * output),
            PredictionType.Sample => output.alias(),
            var other => throw new InvalidOperationException($"Unknown prediction type {other}."),
        };
    }
}
