using SdTune.Models;
using SdTune.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>
/// A v-prediction (or x₀-prediction) model that encodes the same denoiser as an ε-model must give the same samples:
/// on scaled input x_in = α·x₀ + s·ε with α = 1/√(σ² + 1), s = σ·α, the outputs are x̂₀ = (x_in − s·ε̂)/α and
/// v̂ = α·ε̂ − s·x̂₀. This pins the v and x₀ conversions of every sampler.
/// </summary>
public class PredictionTypeEquivalenceTests
{
    public static TheoryData<string, PredictionType> Cases
    {
        get
        {
            var data = new TheoryData<string, PredictionType>();
            foreach (var name in SamplerRegistry.Names)
            {
                data.Add(name, PredictionType.VPrediction);
                data.Add(name, PredictionType.Sample);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Equivalent_models_of_another_prediction_type_give_the_same_samples(string name, PredictionType predictionType)
    {
        var epsilonSchedule = new NoiseSchedule(NoiseScheduleConfig.StableDiffusion);
        var otherSchedule = new NoiseSchedule(NoiseScheduleConfig.StableDiffusion with { PredictionType = predictionType });
        using var expected = Run(SamplerRegistry.Create(name, epsilonSchedule), (x, t, _) => SamplerLoopCase.FakeModel(x, t));

        var sampler = SamplerRegistry.Create(name, otherSchedule);
        var plan = sampler.CreatePlan(12);
        using var actual = Run(sampler, (x, t, i) =>
        {
            var sigma = plan.Sigmas[i];
            var alpha = 1 / Math.Sqrt((sigma * sigma) + 1);
            var s = sigma * alpha;
            var epsilon = SamplerLoopCase.FakeModel(x, t);
            var x0 = (x - (s * epsilon)) / alpha;
            return predictionType == PredictionType.Sample ? x0 : (alpha * epsilon) - (s * x0);
        });

        SchedulerFixture.AssertClose(expected, actual, 1e-4, 1e-4, $"{name} with {predictionType}");
    }

    private static Tensor Run(ISampler sampler, Denoiser denoise)
    {
        var plan = sampler.CreatePlan(12);
        using var generator = new torch.Generator(9);
        using var noise = SeededNoise.InitialNoise(21, [2, 4, 8, 8]);
        using var start = sampler.PrepareLatents(plan, noise);
        return sampler.Sample(plan, start, denoise, new SamplerRunOptions { Noise = new GeneratorNoiseSource(generator) });
    }
}
