using SdTune.Schedulers;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>DDIM's first three steps on stored model outputs (schedulers.safetensors ddim.* and ddim_vpred.*).</summary>
public class DdimStepReferenceTests
{
    [Theory]
    [InlineData("ddim")]
    [InlineData("ddim_vpred")]
    public void Timesteps_and_final_alpha_match_the_reference(string caseName)
    {
        var sampler = (DdimSampler)SamplerReferenceTests.CreateSampler(caseName);
        var plan = sampler.CreatePlan(20);
        Assert.Equal(SchedulerFixture.ReadDoubles($"{caseName}.timesteps"), plan.Timesteps);
        Assert.Equal(951, plan.Timesteps[0]);
        Assert.Equal(1, plan.Timesteps[^1]);
        Assert.Equal((float)SchedulerFixture.ReadDoubles($"{caseName}.final_alpha_cumprod")[0], sampler.FinalAlphaCumprod);
    }

    [Theory]
    [InlineData("ddim")]
    [InlineData("ddim_vpred")]
    public void Three_steps_reproduce_prev_sample_and_pred_original_sample(string caseName)
    {
        var sampler = SamplerReferenceTests.CreateSampler(caseName);
        var plan = sampler.CreatePlan(20).WithRange(0, 3);
        using var sample = SchedulerFixture.Read($"{caseName}.step.sample_in.0");

        var seen = 0;
        using var result = sampler.Sample(plan, sample, (input, t, i) =>
        {
            Assert.Equal(plan.Timesteps[i], t);
            if (i == 0)
            {
                SchedulerFixture.AssertClose(sample, input, 0, 0, "DDIM does not scale the model input");
            }

            return SchedulerFixture.Read($"{caseName}.step.model_output.{i}");
        }, new SamplerRunOptions
        {
            Progress = p =>
            {
                seen++;
                using var prev = SchedulerFixture.Read($"{caseName}.step.prev_sample.{p.StepIndex}");
                using var x0 = SchedulerFixture.Read($"{caseName}.step.pred_original_sample.{p.StepIndex}");
                SchedulerFixture.AssertClose(prev, p.Latents, 1e-6, 1e-5, $"{caseName}.step.prev_sample.{p.StepIndex}");
                SchedulerFixture.AssertClose(x0, p.Denoised, 1e-6, 1e-5, $"{caseName}.step.pred_original_sample.{p.StepIndex}");
            },
        });

        Assert.Equal(3, seen);
        using var last = SchedulerFixture.Read($"{caseName}.step.prev_sample.2");
        SchedulerFixture.AssertClose(last, result, 1e-6, 1e-5, "result after 3 steps");
    }
}
