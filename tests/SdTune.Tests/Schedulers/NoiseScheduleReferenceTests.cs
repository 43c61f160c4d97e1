using SdTune.Models;
using SdTune.Schedulers;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>The training schedule against diffusers' DDPMScheduler (schedulers.safetensors, ddpm.*).</summary>
public class NoiseScheduleReferenceTests
{
    private static readonly NoiseSchedule Ddpm = SchedulerFixture.Schedule("DDPMScheduler");

    [Fact]
    public void Betas_are_bit_identical_to_diffusers()
    {
        var expected = SchedulerFixture.ReadDoubles("ddpm.betas");
        Assert.Equal(expected.Select(v => (float)v), Ddpm.Betas);
    }

    [Fact]
    public void Alphas_cumprod_are_bit_identical_to_diffusers()
    {
        var expected = SchedulerFixture.ReadDoubles("ddpm.alphas_cumprod");
        Assert.Equal(expected.Select(v => (float)v), Ddpm.AlphasCumprod);
    }

    [Fact]
    public void The_stable_diffusion_preset_is_the_same_schedule()
    {
        var preset = new NoiseSchedule(NoiseScheduleConfig.StableDiffusion);
        Assert.Equal(Ddpm.AlphasCumprod, preset.AlphasCumprod);

        // Reference notes §2.5: σ_min ≈ 0.0292, σ_max ≈ 14.6146.
        Assert.Equal(0.0292, preset.Sigmas[0], 4);
        Assert.Equal(14.6146, preset.Sigmas[^1], 4);
    }

    [Fact]
    public void AddNoise_matches_diffusers()
    {
        using var x0 = SchedulerFixture.Read("ddpm.add_noise.original_samples");
        using var noise = SchedulerFixture.Read("ddpm.add_noise.noise");
        using var t = SchedulerFixture.Read("ddpm.add_noise.timesteps");
        using var expected = SchedulerFixture.Read("ddpm.add_noise.output");
        using var actual = Ddpm.AddNoise(x0, noise, t);
        SchedulerFixture.AssertClose(expected, actual, 1e-6, 1e-6, "ddpm.add_noise.output");
    }

    [Fact]
    public void GetVelocity_matches_diffusers()
    {
        using var x0 = SchedulerFixture.Read("ddpm.add_noise.original_samples");
        using var noise = SchedulerFixture.Read("ddpm.add_noise.noise");
        using var t = SchedulerFixture.Read("ddpm.add_noise.timesteps");
        using var expected = SchedulerFixture.Read("ddpm.get_velocity.output");
        using var actual = Ddpm.GetVelocity(x0, noise, t);
        SchedulerFixture.AssertClose(expected, actual, 1e-6, 1e-6, "ddpm.get_velocity.output");
    }

    [Fact]
    public void Training_targets_follow_the_prediction_type()
    {
        using var x0 = SchedulerFixture.Read("ddpm.add_noise.original_samples");
        using var noise = SchedulerFixture.Read("ddpm.add_noise.noise");
        using var t = SchedulerFixture.Read("ddpm.add_noise.timesteps");
        using var velocity = SchedulerFixture.Read("ddpm.get_velocity.output");
        using var epsilonTarget = Ddpm.TrainingTarget(x0, noise, t, PredictionType.Epsilon);
        using var vTarget = Ddpm.TrainingTarget(x0, noise, t, PredictionType.VPrediction);
        using var sampleTarget = Ddpm.TrainingTarget(x0, noise, t, PredictionType.Sample);
        SchedulerFixture.AssertClose(noise, epsilonTarget, 0, 0, "epsilon target");
        SchedulerFixture.AssertClose(velocity, vTarget, 1e-6, 1e-6, "v target");
        SchedulerFixture.AssertClose(x0, sampleTarget, 0, 0, "sample target");
    }

    [Fact]
    public void One_timestep_applies_to_the_whole_batch()
    {
        using var x0 = SchedulerFixture.Read("ddpm.add_noise.original_samples");
        using var noise = SchedulerFixture.Read("ddpm.add_noise.noise");
        using var single = tensor(new long[] { 500 });
        using var perSample = full(4, 500L, dtype: ScalarType.Int64);
        using var a = Ddpm.AddNoise(x0, noise, single);
        using var b = Ddpm.AddNoise(x0, noise, perSample);
        SchedulerFixture.AssertClose(b, a, 0, 0, "broadcast timestep");
    }

    [Fact]
    public void Bad_timesteps_are_refused_with_a_clear_message()
    {
        using var x0 = zeros(2, 4, 2, 2);
        using var noise = zeros(2, 4, 2, 2);
        using var outOfRange = tensor(new long[] { 3, 1000 });
        using var fractional = tensor(new float[] { 3.5f, 2 });
        using var wrongCount = tensor(new long[] { 1, 2, 3 });
        Assert.Contains("[0, 1000)", Assert.Throws<ArgumentException>(() => Ddpm.AddNoise(x0, noise, outOfRange)).Message, StringComparison.Ordinal);
        Assert.Contains("integer", Assert.Throws<ArgumentException>(() => Ddpm.AddNoise(x0, noise, fractional)).Message, StringComparison.Ordinal);
        Assert.Contains("batch of 2", Assert.Throws<ArgumentException>(() => Ddpm.AddNoise(x0, noise, wrongCount)).Message, StringComparison.Ordinal);
        using var badNoise = zeros(2, 4, 2, 3);
        using var t = tensor(new long[] { 1, 2 });
        Assert.Contains("noise has shape", Assert.Throws<ArgumentException>(() => Ddpm.AddNoise(x0, badNoise, t)).Message, StringComparison.Ordinal);
    }
}
