using SdTune.Schedulers;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>A1111-style seeds: one CPU generator per image, seed + i, float32 draws (reference notes §4.7).</summary>
public class SeededNoiseTests
{
    [Fact]
    public void Initial_noise_is_torch_randn_from_a_generator_seeded_with_the_seed()
    {
        // The fixture's initial noise is randn(1, 4, 8, 8) from torch.Generator().manual_seed(300).
        using var expected = SchedulerFixture.Read("euler.loop.initial_noise");
        using var actual = SeededNoise.InitialNoise(300, [1, 4, 8, 8]);
        SchedulerFixture.AssertClose(expected, actual, 0, 0, "initial noise for seed 300");
        Assert.Equal(ScalarType.Float32, actual.dtype);
    }

    [Fact]
    public void Image_i_of_a_batch_uses_seed_plus_i_with_its_own_generator()
    {
        using var batch = SeededNoise.InitialNoise(298, [3, 4, 8, 8]);
        using var third = batch[2].unsqueeze(0);
        using var expected = SchedulerFixture.Read("euler.loop.initial_noise");
        SchedulerFixture.AssertClose(expected, third, 0, 0, "image 2 of a batch seeded 298");

        using var first = SeededNoise.InitialNoise(298, [1, 4, 8, 8]);
        using var batchFirst = batch[0].unsqueeze(0);
        SchedulerFixture.AssertClose(first, batchFirst, 0, 0, "image 0 does not depend on the batch size");
    }

    [Fact]
    public void Step_noise_continues_from_the_same_generators()
    {
        // euler_ancestral.loop.noise.i are the draws 0, 1, 2 … of torch.Generator().manual_seed(400).
        using var noise = new SeededNoise(400, 1);
        using var initial = noise.Initial([1, 4, 8, 8], ScalarType.Float32, CPU);
        using var next = noise.Next([1, 4, 8, 8], ScalarType.Float32, CPU);
        using var draw0 = SchedulerFixture.Read("euler_ancestral.loop.noise.0");
        using var draw1 = SchedulerFixture.Read("euler_ancestral.loop.noise.1");
        SchedulerFixture.AssertClose(draw0, initial, 0, 0, "first draw");
        SchedulerFixture.AssertClose(draw1, next, 0, 0, "second draw");
    }

    [Fact]
    public void Eta_noise_seed_delta_reseeds_the_generators_after_the_initial_noise()
    {
        using var noise = new SeededNoise(300, 1, etaNoiseSeedDelta: 100);
        using var initial = noise.Initial([1, 4, 8, 8], ScalarType.Float32, CPU);
        using var next = noise.Next([1, 4, 8, 8], ScalarType.Float32, CPU);
        using var seed300 = SchedulerFixture.Read("euler.loop.initial_noise");
        using var seed400 = SchedulerFixture.Read("euler_ancestral.loop.noise.0");
        SchedulerFixture.AssertClose(seed300, initial, 0, 0, "initial noise keeps the image seed");
        SchedulerFixture.AssertClose(seed400, next, 0, 0, "step noise comes from seed + delta");
    }

    [Fact]
    public void Dtype_is_applied_after_a_float32_draw()
    {
        using var wide = SeededNoise.InitialNoise(300, [1, 4, 8, 8], ScalarType.Float64);
        using var expected = SchedulerFixture.Read("euler.loop.initial_noise");
        Assert.Equal(ScalarType.Float64, wide.dtype);
        SchedulerFixture.AssertClose(expected, wide, 0, 0, "float64 copy of the float32 draw");
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeededNoise(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeededNoise(1, 0));
        Assert.Throws<ArgumentException>(() => SeededNoise.InitialNoise(1, []));
        using var noise = new SeededNoise(1, 2);
        var error = Assert.Throws<ArgumentException>(() => noise.Next([3, 4, 8, 8], ScalarType.Float32, CPU));
        Assert.Contains("batch size 2", error.Message, StringComparison.Ordinal);
    }
}
