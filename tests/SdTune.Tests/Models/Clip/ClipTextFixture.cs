using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models.Clip;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Clip;

/// <summary>The <c>clip_text_tiny</c> reference fixture: weights, config, input ids and expected outputs.</summary>
internal static class ClipTextFixture
{
    public static string WeightsPath => TestPaths.Fixture("clip_text_tiny.safetensors");

    public static string ConfigPath => TestPaths.Fixture("clip_text_tiny.config.json");

    public static ClipTextConfig Config => ClipTextConfig.FromJsonFile(ConfigPath);

    /// <summary>True for the fixture's non-weight entries (inputs and expected outputs).</summary>
    public static bool IsInputOrOutput(string name) =>
        name.StartsWith("input.", StringComparison.Ordinal) || name.StartsWith("output", StringComparison.Ordinal);

    /// <summary>The tiny model with projection, weights loaded strictly from the fixture.</summary>
    public static ClipTextModelWithProjection LoadModel(ScalarType? dtype = null)
    {
        var model = new ClipTextModelWithProjection(Config, dtype: dtype);
        using var file = SafetensorsFile.Open(WeightsPath);
        var report = ModuleWeights.Load(model, file, strict: true, ignore: IsInputOrOutput);
        Assert.True(report.IsComplete);
        model.eval();
        return model;
    }

    public static Tensor Read(string name, ScalarType? dtype = null)
    {
        using var file = SafetensorsFile.Open(WeightsPath);
        return file.Read(name, dtype);
    }

    /// <summary>The fixture's weights only (text_model.* and text_projection.weight), in file order.</summary>
    public static List<KeyValuePair<string, Tensor>> ReadWeights()
    {
        using var file = SafetensorsFile.Open(WeightsPath);
        return [.. file.Tensors.Where(t => !IsInputOrOutput(t.Name)).Select(t => new KeyValuePair<string, Tensor>(t.Name, file.Read(t.Name)))];
    }

    public static double MaxAbsDiff(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var scope = NewDisposeScope();
        return (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>();
    }
}
