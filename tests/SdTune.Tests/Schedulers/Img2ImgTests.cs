using SdTune.Schedulers;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>img2img: which steps run for a strength (diffusers' get_timesteps) and how the init latents are noised.</summary>
public class Img2ImgTests
{
    private static readonly NoiseSchedule Sd = new(NoiseScheduleConfig.StableDiffusion);

    [Theory]
    [InlineData(20, 1.0, 0)]
    [InlineData(20, 0.75, 5)]
    [InlineData(20, 0.5, 10)]
    [InlineData(10, 0.33, 7)]
    [InlineData(50, 0.3, 35)]
    [InlineData(20, 0.05, 19)]
    public void Strength_selects_the_last_floor_of_steps_times_strength_steps(int steps, double strength, int start)
    {
        foreach (var name in SamplerRegistry.Names)
        {
            var sampler = SamplerRegistry.Create(name, Sd);
            var full = sampler.CreatePlan(steps);
            var plan = sampler.CreatePlan(steps, strength);
            Assert.Equal(start, plan.StartIndex);
            Assert.Equal(steps, plan.EndIndex);
            Assert.Equal(full.Timesteps, plan.Timesteps);
            Assert.Equal(full.Sigmas, plan.Sigmas);
        }
    }

    [Theory]
    [InlineData(0.04)]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Strength_that_leaves_no_step_or_is_out_of_range_is_refused(double strength)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new EulerSampler(Sd).CreatePlan(20, strength));
        Assert.Equal("strength", error.ParamName);
    }

    [Fact]
    public void Only_the_planned_steps_call_the_model()
    {
        foreach (var name in SamplerRegistry.Names)
        {
            var sampler = SamplerRegistry.Create(name, Sd);
            var plan = sampler.CreatePlan(20, 0.6);
            using var noise = new SeededNoise(7, 1);
            using var init = full(1, 4, 4, 4, 0.5f);
            using var x = sampler.PrepareLatents(plan, noise.Initial([1, 4, 4, 4], ScalarType.Float32, CPU), init);
            var calls = new List<(double T, int I)>();
            using var result = sampler.Sample(plan, x, (input, t, i) =>
            {
                calls.Add((t, i));
                return input * 0.1;
            }, new SamplerRunOptions { Noise = noise });

            Assert.Equal(Enumerable.Range(8, 12), calls.Select(c => c.I));
            Assert.Equal(plan.Timesteps.Skip(8), calls.Select(c => c.T));
        }
    }

    [Fact]
    public void Ddim_noises_the_init_latents_with_the_training_forward_process_at_the_first_timestep()
    {
        var sampler = new DdimSampler(Sd);
        var plan = sampler.CreatePlan(20, 0.5);
        var t = (int)plan.Timesteps[plan.StartIndex];
        Assert.Equal(451, t);
        AssertNoisedAs(sampler, plan, MathF.Sqrt(Sd.AlphasCumprod[t]), MathF.Sqrt(1 - Sd.AlphasCumprod[t]));
    }

    [Fact]
    public void Euler_adds_sigma_times_noise_to_the_init_latents()
    {
        foreach (var sampler in new ISampler[] { new EulerSampler(Sd), new EulerAncestralSampler(Sd) })
        {
            var plan = sampler.CreatePlan(20, 0.5);
            AssertNoisedAs(sampler, plan, 1.0, plan.Sigmas[plan.StartIndex]);
        }
    }

    [Fact]
    public void Dpm_solver_noises_to_the_variance_preserving_level_of_the_first_sigma()
    {
        var sampler = new DpmPlusPlus2MSampler(Sd, karras: false);
        var plan = sampler.CreatePlan(20, 0.5);

        // For an integer timestep σ = √((1 − ᾱ)/ᾱ), so α = 1/√(σ² + 1) = √ᾱ: the same level as the training forward process.
        var t = (int)plan.Timesteps[plan.StartIndex];
        AssertNoisedAs(sampler, plan, Math.Sqrt(Sd.AlphasCumprod[t]), Math.Sqrt(1 - Sd.AlphasCumprod[t]), tolerance: 1e-6);
    }

    [Fact]
    public void Txt2img_latents_are_noise_times_init_noise_sigma()
    {
        foreach (var name in SamplerRegistry.Names)
        {
            var sampler = SamplerRegistry.Create(name, Sd);
            var plan = sampler.CreatePlan(20);
            using var noise = SeededNoise.InitialNoise(1, [1, 4, 4, 4]);
            using var x = sampler.PrepareLatents(plan, noise);
            using var expected = noise * plan.InitNoiseSigma;
            SchedulerFixture.AssertClose(expected, x, 1e-6, 1e-6, name);
        }
    }

    [Fact]
    public void An_img2img_plan_needs_init_latents()
    {
        var sampler = new EulerSampler(Sd);
        var plan = sampler.CreatePlan(20, 0.5);
        using var noise = zeros(1, 4, 4, 4);
        var error = Assert.Throws<ArgumentException>(() => sampler.PrepareLatents(plan, noise));
        Assert.Contains("init image", error.Message, StringComparison.Ordinal);
    }

    private static void AssertNoisedAs(ISampler sampler, SamplingPlan plan, double signal, double noiseScale, double tolerance = 1e-6)
    {
        using var init = SeededNoise.InitialNoise(11, [2, 4, 4, 4]);
        using var noise = SeededNoise.InitialNoise(12, [2, 4, 4, 4]);
        using var actual = sampler.PrepareLatents(plan, noise, init);
        using var expected = (signal * init) + (noiseScale * noise);
        SchedulerFixture.AssertClose(expected, actual, tolerance, tolerance, $"{sampler.Name} img2img latents");
    }
}
