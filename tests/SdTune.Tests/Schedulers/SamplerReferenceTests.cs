using SdTune.Schedulers;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>Every sampler against the diffusers reference loops of schedulers.safetensors (README §5).</summary>
public class SamplerReferenceTests
{
    public static TheoryData<string> KarrasCases => ["euler", "euler_leading", "euler_ancestral", "dpmpp_2m_karras", "dpmpp_2m"];

    [Theory]
    [InlineData("ddim_loop")]
    [InlineData("euler")]
    [InlineData("euler_leading")]
    [InlineData("euler_ancestral")]
    [InlineData("dpmpp_2m_karras")]
    [InlineData("dpmpp_2m")]
    public void Plan_timesteps_match_the_reference(string caseName)
    {
        var plan = CreateSampler(caseName).CreatePlan(SamplerLoopCase.Steps);
        var expected = SchedulerFixture.ReadDoubles($"{caseName}.timesteps");

        // Float32 timesteps compare as float32 (the ancestral scheduler's float64 values were stored as float32).
        Assert.Equal(expected, plan.Timesteps.Select(t => (double)(float)t));
        Assert.Equal(0, plan.StartIndex);
        Assert.Equal(SamplerLoopCase.Steps, plan.EndIndex);
    }

    [Theory]
    [MemberData(nameof(KarrasCases))]
    public void Plan_sigmas_match_the_reference_and_end_at_zero(string caseName)
    {
        var plan = CreateSampler(caseName).CreatePlan(SamplerLoopCase.Steps);
        var expected = SchedulerFixture.ReadDoubles($"{caseName}.sigmas");
        SchedulerFixture.AssertSequenceClose(expected, plan.Sigmas, 1e-6, $"{caseName}.sigmas");
        Assert.Equal(0.0, plan.Sigmas[^1]);
    }

    [Fact]
    public void Ddim_loop_matches_the_reference() => SamplerLoopCase.RunAndCompare("ddim_loop", CreateSampler("ddim_loop"));

    [Fact]
    public void Euler_linspace_loop_matches_the_reference() => SamplerLoopCase.RunAndCompare("euler", CreateSampler("euler"));

    [Fact]
    public void Euler_leading_loop_matches_the_reference() => SamplerLoopCase.RunAndCompare("euler_leading", CreateSampler("euler_leading"));

    [Fact]
    public void Euler_ancestral_loop_with_the_stored_noises_matches_the_reference()
    {
        var noise = new SamplerLoopCase.StoredNoise("euler_ancestral");
        SamplerLoopCase.RunAndCompare("euler_ancestral", CreateSampler("euler_ancestral"), noise);
        Assert.Equal(SamplerLoopCase.Steps, noise.Draws);
    }

    [Fact]
    public void Euler_ancestral_loop_with_a_seeded_generator_matches_the_reference()
    {
        // The reference drew its step noise from torch.Generator().manual_seed(400); libtorch draws the same numbers.
        using var generator = new TorchSharp.torch.Generator(400);
        SamplerLoopCase.RunAndCompare("euler_ancestral", CreateSampler("euler_ancestral"), new GeneratorNoiseSource(generator));
    }

    [Fact]
    public void Dpmpp_2m_karras_loop_matches_the_reference() => SamplerLoopCase.RunAndCompare("dpmpp_2m_karras", CreateSampler("dpmpp_2m_karras"));

    [Fact]
    public void Dpmpp_2m_loop_matches_the_reference() => SamplerLoopCase.RunAndCompare("dpmpp_2m", CreateSampler("dpmpp_2m"));

    [Fact]
    public void Euler_ancestral_without_a_noise_source_is_refused()
    {
        var sampler = CreateSampler("euler_ancestral");
        var plan = sampler.CreatePlan(4);
        using var x = zeros(1, 4, 2, 2);
        var error = Assert.Throws<InvalidOperationException>(() => sampler.Sample(plan, x, (input, _, _) => input * 0));
        Assert.Contains("Euler a", error.Message, StringComparison.Ordinal);
        Assert.Contains("noise source", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plan_runs_only_on_the_sampler_kind_that_made_it()
    {
        var schedule = new NoiseSchedule(NoiseScheduleConfig.StableDiffusion);
        var plan = new EulerSampler(schedule).CreatePlan(10);
        using var x = zeros(1, 4, 2, 2);
        var error = Assert.Throws<ArgumentException>(() => new DdimSampler(schedule).Sample(plan, x, (input, _, _) => input * 0));
        Assert.Contains("'Euler'", error.Message, StringComparison.Ordinal);
    }

    internal static ISampler CreateSampler(string caseName)
    {
        var schedule = SchedulerFixture.Schedule(caseName);
        return caseName switch
        {
            "ddim" or "ddim_vpred" or "ddim_loop" => new DdimSampler(schedule),
            "euler" or "euler_leading" => new EulerSampler(schedule),
            "euler_ancestral" => new EulerAncestralSampler(schedule),
            "dpmpp_2m_karras" => new DpmPlusPlus2MSampler(schedule, karras: true),
            "dpmpp_2m" => new DpmPlusPlus2MSampler(schedule, karras: false),
            _ => throw new ArgumentOutOfRangeException(nameof(caseName), caseName, "No such fixture case."),
        };
    }
}
