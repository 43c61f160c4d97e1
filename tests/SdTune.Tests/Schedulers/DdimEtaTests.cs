using SdTune.Schedulers;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>DDIM with η &gt; 0, checked against the update rule written out in float64 (reference notes §4.2).</summary>
public class DdimEtaTests
{
    private sealed class FixedNoise(Tensor noise) : INoiseSource
    {
        public int Draws { get; private set; }

        public Tensor Next(long[] shape, ScalarType dtype, Device device)
        {
            Draws++;
            return noise.to(dtype, device, copy: true);
        }
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    public void One_step_adds_sigma_t_times_fresh_noise(double eta)
    {
        var schedule = SchedulerFixture.Schedule("ddim");
        var sampler = new DdimSampler(schedule, eta);
        var plan = sampler.CreatePlan(20).WithRange(0, 1);
        using var x = SchedulerFixture.Read("ddim.step.sample_in.0");
        using var epsilon = SchedulerFixture.Read("ddim.step.model_output.0");
        using var z = SeededNoise.InitialNoise(5, [1, 4, 8, 8]);
        var noise = new FixedNoise(z);

        using var actual = sampler.Sample(plan, x, (_, _, _) => epsilon.clone(), new SamplerRunOptions { Noise = noise });

        double alphaBar = schedule.AlphasCumprod[951];
        double alphaBarPrev = schedule.AlphasCumprod[901];
        var std = eta * Math.Sqrt((1 - alphaBarPrev) / (1 - alphaBar)) * Math.Sqrt(1 - (alphaBar / alphaBarPrev));
        using var x64 = x.to(ScalarType.Float64);
        using var e64 = epsilon.to(ScalarType.Float64);
        using var x0 = (x64 - (Math.Sqrt(1 - alphaBar) * e64)) / Math.Sqrt(alphaBar);
        using var expected = (Math.Sqrt(alphaBarPrev) * x0) + (Math.Sqrt(1 - alphaBarPrev - (std * std)) * e64) + (std * z.to(ScalarType.Float64));

        Assert.Equal(1, noise.Draws);
        SchedulerFixture.AssertClose(expected, actual, 1e-5, 1e-5, $"DDIM eta {eta}");
    }

    [Fact]
    public void Eta_above_zero_needs_a_noise_source_and_eta_zero_does_not_draw()
    {
        var schedule = SchedulerFixture.Schedule("ddim");
        using var x = SchedulerFixture.Read("ddim.step.sample_in.0");
        var stochastic = new DdimSampler(schedule, 1.0);
        Assert.Throws<InvalidOperationException>(() => stochastic.Sample(stochastic.CreatePlan(5), x, (input, _, _) => 0.1 * input));

        var noise = new FixedNoise(zeros(1, 4, 8, 8));
        var deterministic = new DdimSampler(schedule);
        using var result = deterministic.Sample(deterministic.CreatePlan(5), x, (input, _, _) => 0.1 * input, new SamplerRunOptions { Noise = noise });
        Assert.Equal(0, noise.Draws);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DdimSampler(schedule, -0.1));
    }
}
