using SdTune.Checkpoints;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Tests.Models;

public class ModuleWeightsTests
{
    [Fact]
    public void Loads_parameters_and_persistent_buffers_converting_the_dtype()
    {
        using var scope = NewDisposeScope();
        using var module = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2));
        var source = new Dictionary<string, Tensor>
        {
            ["0.weight"] = arange(6, dtype: ScalarType.Float64).view(2, 3),
            ["0.bias"] = tensor(new[] { 7.0, 8.0 }),
            ["1.weight"] = ones(2),
            ["1.bias"] = zeros(2),
            ["1.running_mean"] = tensor(new[] { 0.5f, -0.5f }),
            ["1.running_var"] = tensor(new[] { 2f, 3f }),
            ["1.num_batches_tracked"] = tensor(5L),
            ["extra.position_ids"] = arange(4),
        };

        var report = ModuleWeights.Load(module, source, ignore: name => name.EndsWith("position_ids", StringComparison.Ordinal));

        Assert.True(report.IsComplete);
        Assert.Equal(7, report.Loaded.Count);
        Assert.Equal(["extra.position_ids"], report.Ignored);
        var state = module.state_dict();
        Assert.Equal(ScalarType.Float32, state["0.weight"].dtype);
        Assert.Equal([0f, 1f, 2f, 3f, 4f, 5f], state["0.weight"].data<float>().ToArray());
        Assert.Equal([0.5f, -0.5f], state["1.running_mean"].data<float>().ToArray());
        Assert.Equal(5L, state["1.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void Missing_names_fail_when_strict_and_are_reported_otherwise()
    {
        using var scope = NewDisposeScope();
        using var module = nn.Sequential(nn.Linear(3, 2));
        var source = new Dictionary<string, Tensor> { ["unet.0.weight"] = ones(2, 3) };

        var error = Assert.Throws<CheckpointFormatException>(() => ModuleWeights.Load(module, source, prefix: "unet.", sourceName: "lora.safetensors"));
        Assert.Equal("lora.safetensors", error.Path);
        Assert.Contains("1 missing tensor(s): unet.0.bias", error.Message, StringComparison.Ordinal);
        Assert.True(module.state_dict()["0.weight"].ne(1).any().item<bool>(), "a failed load must not copy anything");

        var report = ModuleWeights.Load(module, source, strict: false, prefix: "unet.");
        Assert.Equal(["0.weight"], report.Loaded);
        Assert.Equal(["0.bias"], report.Missing);
        Assert.True(module.state_dict()["0.weight"].eq(1).all().item<bool>());
    }
}
