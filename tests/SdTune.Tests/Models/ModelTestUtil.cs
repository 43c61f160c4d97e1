using SdTune.Checkpoints.Safetensors;
using static TorchSharp.torch;

namespace SdTune.Tests.Models;

internal static class ModelTestUtil
{
    /// <summary>Fixture tensors that are inputs or expected outputs, not weights.</summary>
    public static bool IsFixtureData(string name) =>
        name.StartsWith("input", StringComparison.Ordinal) || name.StartsWith("output", StringComparison.Ordinal);

    /// <summary>Max |actual - expected| in float64.</summary>
    public static double MaxAbsDiff(Tensor actual, SafetensorsFile fixture, string expectedName)
    {
        using var expected = fixture.Read(expectedName, ScalarType.Float64);
        Assert.Equal(expected.shape, actual.shape);
        using var diff = (actual.to(ScalarType.Float64) - expected).abs().max();
        return diff.item<double>();
    }
}
