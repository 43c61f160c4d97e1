using SdTune.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>Sampling loops must not leak tensors: every step runs in a dispose scope and only the latents leave it.</summary>
public class SamplerMemoryTests
{
    private static readonly NoiseSchedule Sd = new(NoiseScheduleConfig.StableDiffusion);

    public static TheoryData<string> Names => [.. SamplerRegistry.Names];

    [Theory]
    [MemberData(nameof(Names))]
    public void Live_tensor_count_is_flat_across_two_20_step_runs(string name)
    {
        var sampler = SamplerRegistry.Create(name, Sd);
        var plan = sampler.CreatePlan(20);
        using var generator = new torch.Generator(5);
        var options = new SamplerRunOptions { Noise = new GeneratorNoiseSource(generator) };
        using var noise = SeededNoise.InitialNoise(3, [1, 4, 8, 8]);
        using var start = sampler.PrepareLatents(plan, noise);

        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var counts = new List<long>();
        var perStepRuns = new List<List<long>>();
        for (var run = 0; run < 2; run++)
        {
            var perStep = new List<long>();
            using var result = sampler.Sample(plan, start, (x, t, _) => (0.1 * x) + (0.05 * Math.Cos(t)), options with
            {
                Progress = _ => perStep.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount),
            });

            // Within a step the count depends on the update (first- or second-order) but must not grow from step to step.
            Assert.Equal(20, perStep.Count);
            Assert.Equal(perStep[2], perStep[^2]);
            perStepRuns.Add(perStep);
            counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }

        Assert.Equal(perStepRuns[0], perStepRuns[1]);
        Assert.Equal(counts[0], counts[1]);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void A_caller_scope_releases_the_result()
    {
        var sampler = SamplerRegistry.Create("dpmpp-2m-karras", Sd);
        var plan = sampler.CreatePlan(10);
        using var start = SeededNoise.InitialNoise(3, [1, 4, 8, 8]);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 3; i++)
        {
            using var scope = NewDisposeScope();
            _ = sampler.Sample(plan, sampler.PrepareLatents(plan, start), (x, _, _) => 0.1 * x);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Results_keep_the_callers_dtype_and_the_loop_computes_in_float32()
    {
        var sampler = SamplerRegistry.Create("euler", Sd);
        var plan = sampler.CreatePlan(10);
        using var start32 = sampler.PrepareLatents(plan, SeededNoise.InitialNoise(3, [1, 4, 8, 8]));
        using var start64 = start32.to(ScalarType.Float64);
        var inputTypes = new List<ScalarType>();
        using var result32 = sampler.Sample(plan, start32, (x, _, _) => 0.1 * x);
        using var result64 = sampler.Sample(plan, start64, (x, _, _) =>
        {
            inputTypes.Add(x.dtype);
            return 0.1 * x;
        });

        Assert.Equal(ScalarType.Float64, result64.dtype);
        Assert.All(inputTypes, t => Assert.Equal(ScalarType.Float32, t));
        SchedulerFixture.AssertClose(result32, result64, 0, 0, "float64 input runs the same float32 loop");
    }

    [Fact]
    public void Cancellation_stops_the_loop_before_the_next_step()
    {
        var sampler = SamplerRegistry.Create("euler", Sd);
        var plan = sampler.CreatePlan(10);
        using var start = SeededNoise.InitialNoise(3, [1, 4, 8, 8]);
        using var cancel = new CancellationTokenSource();
        var calls = 0;
        Assert.Throws<OperationCanceledException>(() => sampler.Sample(plan, start, (x, _, _) =>
        {
            if (++calls == 3)
            {
                cancel.Cancel();
            }

            return 0.1 * x;
        }, new SamplerRunOptions { CancellationToken = cancel.Token }));
        Assert.Equal(3, calls);
    }

    [Fact]
    public void A_model_output_of_the_wrong_shape_is_reported()
    {
        var sampler = SamplerRegistry.Create("ddim", Sd);
        var plan = sampler.CreatePlan(10);
        using var start = SeededNoise.InitialNoise(3, [1, 4, 8, 8]);
        var error = Assert.Throws<InvalidOperationException>(() => sampler.Sample(plan, start, (x, _, _) => x[.., ..3]));
        Assert.Contains("[1, 3, 8, 8]", error.Message, StringComparison.Ordinal);
    }
}
