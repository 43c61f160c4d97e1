using SdTune.Prompts;
using static TorchSharp.torch;

namespace SdTune.Tests.Prompts;

public class EmphasisWeightingTests
{
    private static void AssertClose(float[] expected, Tensor actual)
    {
        var values = actual.contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - values[i]) < 1e-5, $"element {i}: expected {expected[i]}, got {values[i]}");
        }
    }

    [Fact]
    public void Original_multiplies_then_restores_the_mean()
    {
        using var z = tensor(new float[] { 1, 2, 3, 4 }).reshape(1, 2, 2);
        using var w = tensor(new float[] { 1, 2 }).reshape(1, 2);

        using var result = EmphasisWeighting.ApplyOriginal(z, w, chunkTokens: 2);

        // Weighted: [[1, 2], [6, 8]], mean 4.25; the original mean is 2.5, so everything is scaled by 2.5 / 4.25.
        const float s = 2.5f / 4.25f;
        AssertClose([1 * s, 2 * s, 6 * s, 8 * s], result);
        Assert.Equal(2.5f, result.mean().item<float>(), 5);
        Assert.Equal(z.shape, result.shape);
    }

    [Fact]
    public void Original_restores_the_mean_of_each_chunk_separately()
    {
        // Two chunks of two tokens: [[1,2],[3,4]] weighted [1,2]; [[2,2],[2,2]] weighted [1,3].
        using var z = tensor(new float[] { 1, 2, 3, 4, 2, 2, 2, 2 }).reshape(1, 4, 2);
        using var w = tensor(new float[] { 1, 2, 1, 3 });

        using var result = EmphasisWeighting.ApplyOriginal(z, w, chunkTokens: 2);

        const float s1 = 2.5f / 4.25f;
        const float s2 = 2f / 4f; // weighted [[2,2],[6,6]], mean 4; original mean 2
        AssertClose([1 * s1, 2 * s1, 6 * s1, 8 * s1, 2 * s2, 2 * s2, 6 * s2, 6 * s2], result);
    }

    [Fact]
    public void Original_takes_the_mean_over_the_whole_batch_of_a_chunk()
    {
        using var z = tensor(new float[] { 1, 1, 2, 2 }).reshape(2, 2, 1);
        using var w = tensor(new float[] { 2, 1, 1, 1 }).reshape(2, 2);

        using var result = EmphasisWeighting.ApplyOriginal(z, w, chunkTokens: 2);

        // Weighted [2, 1, 2, 2], mean 1.75; original mean 1.5.
        const float s = 1.5f / 1.75f;
        AssertClose([2 * s, 1 * s, 2 * s, 2 * s], result);
    }

    [Fact]
    public void Unit_multipliers_leave_the_output_unchanged()
    {
        using var z = randn(2, 77, 8);
        using var w = ones(2, 77);
        using var result = EmphasisWeighting.ApplyOriginal(z, w);
        Assert.True(result.allclose(z, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void No_norm_only_multiplies()
    {
        using var z = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var w = tensor(new double[] { 0.5, 3 });
        using var result = EmphasisWeighting.ApplyNoNorm(z, w);
        AssertClose([0.5f, 1, 9, 12], result);
        Assert.Equal(ScalarType.Float32, result.dtype);
    }

    [Fact]
    public void Shape_mismatches_are_reported()
    {
        using var z = zeros(1, 77, 4);
        using var wrongTokens = ones(1, 76);
        var error = Assert.Throws<ArgumentException>(() => EmphasisWeighting.ApplyNoNorm(z, wrongTokens));
        Assert.Contains("[1, 76]", error.Message, StringComparison.Ordinal);

        using var notChunked = zeros(1, 80, 4);
        using var w80 = ones(80);
        Assert.Throws<ArgumentException>(() => EmphasisWeighting.ApplyOriginal(notChunked, w80));
    }
}
