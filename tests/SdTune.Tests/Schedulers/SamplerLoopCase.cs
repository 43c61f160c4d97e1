using SdTune.Schedulers;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>
/// Runs the fixture's 20-step loop protocol (README §5) on one of our samplers: latents = initial_noise ·
/// init_noise_sigma, fake model ε = 0.1·x_in + 0.05·cos(t), and checks every recorded value.
/// </summary>
internal static class SamplerLoopCase
{
    public const int Steps = 20;

    /// <summary>The fake model of the fixture; <paramref name="timestep"/> is used as a double, as the reference does.</summary>
    public static Tensor FakeModel(Tensor modelInput, double timestep) => (0.1 * modelInput) + (0.05 * Math.Cos(timestep));

    /// <summary>Injects the per-step noises a reference run drew.</summary>
    public sealed class StoredNoise(string caseName) : INoiseSource
    {
        public int Draws { get; private set; }

        public Tensor Next(long[] shape, ScalarType dtype, Device device)
        {
            var noise = SchedulerFixture.Read($"{caseName}.loop.noise.{Draws++}");
            Assert.Equal(shape, noise.shape);
            return noise.to(dtype, device);
        }
    }

    public static void RunAndCompare(string caseName, ISampler sampler, INoiseSource? noise = null)
    {
        var plan = sampler.CreatePlan(Steps);
        Assert.Equal(SchedulerFixture.ReadDoubles($"{caseName}.init_noise_sigma")[0], plan.InitNoiseSigma, 6);

        using var initialNoise = SchedulerFixture.Read($"{caseName}.loop.initial_noise");
        using var latentsIn = sampler.PrepareLatents(plan, initialNoise);
        using (var expectedIn = SchedulerFixture.Read($"{caseName}.loop.latents_in"))
        {
            SchedulerFixture.AssertLoopClose(expectedIn, latentsIn, $"{caseName}.loop.latents_in");
        }

        var calls = 0;
        var steps = 0;
        using var result = sampler.Sample(plan, latentsIn, (input, t, i) =>
        {
            Assert.Equal(calls++, i);
            using (var expected = SchedulerFixture.Read($"{caseName}.loop.scaled_model_input.{i}"))
            {
                SchedulerFixture.AssertLoopClose(expected, input, $"{caseName}.loop.scaled_model_input.{i}");
            }

            var output = FakeModel(input, t);
            using (var expected = SchedulerFixture.Read($"{caseName}.loop.model_output.{i}"))
            {
                SchedulerFixture.AssertLoopClose(expected, output, $"{caseName}.loop.model_output.{i}");
            }

            return output;
        }, new SamplerRunOptions
        {
            Noise = noise,
            Progress = p =>
            {
                Assert.Equal(steps++, p.StepIndex);
                Assert.Equal(Steps, p.Total);
                using var expected = SchedulerFixture.Read($"{caseName}.loop.latents.{p.StepIndex}");
                SchedulerFixture.AssertLoopClose(expected, p.Latents, $"{caseName}.loop.latents.{p.StepIndex}");
            },
        });

        Assert.Equal(Steps, calls);
        Assert.Equal(Steps, steps);
        using var final = SchedulerFixture.Read($"{caseName}.loop.final");
        SchedulerFixture.AssertLoopClose(final, result, $"{caseName}.loop.final");
    }
}
