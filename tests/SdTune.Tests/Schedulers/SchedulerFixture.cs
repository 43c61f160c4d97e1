using System.Text.Json;
using SdTune.Checkpoints.Safetensors;
using SdTune.Schedulers;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>The scheduler reference fixtures (schedulers.safetensors + config, training_weights.safetensors) and comparisons.</summary>
internal static class SchedulerFixture
{
    public static string SchedulersPath => TestPaths.Fixture("schedulers.safetensors");

    public static string ConfigPath => TestPaths.Fixture("schedulers.config.json");

    public static string TrainingWeightsPath => TestPaths.Fixture("training_weights.safetensors");

    public static Tensor Read(string name) => ReadFrom(SchedulersPath, name);

    public static Tensor ReadTraining(string name) => ReadFrom(TrainingWeightsPath, name);

    public static double[] ReadDoubles(string name)
    {
        using var tensor = Read(name);
        using var wide = tensor.to(ScalarType.Float64);
        return wide.data<double>().ToArray();
    }

    /// <summary>The resolved diffusers config of one fixture case, as the JSON text of a scheduler_config.json.</summary>
    public static string CaseConfigJson(string caseName)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(ConfigPath));
        return document.RootElement.GetProperty(caseName).GetRawText();
    }

    public static NoiseSchedule Schedule(string caseName) => new(NoiseScheduleConfig.FromJson(CaseConfigJson(caseName), caseName));

    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, with a message naming the tensor.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        var e = expected.to(ScalarType.Float64).cpu();
        var a = actual.to(ScalarType.Float64).cpu();
        var excess = ((a - e).abs() - (atol + (rtol * e.abs()))).max().item<double>();
        var maxDiff = (a - e).abs().max().item<double>();
        Assert.True(excess <= 0, $"{what}: max abs diff {maxDiff:G4} exceeds atol {atol:G2} + rtol {rtol:G2}·|expected|.");
    }

    /// <summary>The loop tolerance of the fixture README §5.</summary>
    public static void AssertLoopClose(Tensor expected, Tensor actual, string what) => AssertClose(expected, actual, 1e-4, 1e-5, what);

    public static void AssertSequenceClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double rtol, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var tolerance = rtol * Math.Abs(expected[i]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}.");
        }
    }

    private static Tensor ReadFrom(string path, string name)
    {
        using var file = SafetensorsFile.Open(path);
        return file.Read(name);
    }
}
