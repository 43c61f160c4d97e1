using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using SdTune.Models.Clip;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Clip;

/// <summary>Loading transformers-named weights from files as real checkpoints lay them out.</summary>
public class ClipTextWeightLoadingTests
{
    [Fact]
    public void A_legacy_position_ids_buffer_is_ignored()
    {
        using var scope = NewDisposeScope();
        using var dir = TestPaths.NewTempDir();
        var weights = ClipTextFixture.ReadWeights();
        weights.Insert(2, new("text_model.embeddings.position_ids", arange(77L).view(1, 77)));
        SafetensorsWriter.Save(dir.File("model.safetensors"), weights);

        using var model = new ClipTextModelWithProjection(ClipTextFixture.Config);
        using var file = SafetensorsFile.Open(dir.File("model.safetensors"));
        var report = model.LoadWeights(file);

        Assert.True(report.IsComplete);
        Assert.Equal(["text_model.embeddings.position_ids"], report.Ignored);
        Assert.Equal(weights.Count - 1, report.Loaded.Count);
        AssertOutputsMatchReference(model);
    }

    [Fact]
    public void Weights_under_a_prefix_load_and_other_components_are_not_considered()
    {
        using var scope = NewDisposeScope();
        using var dir = TestPaths.NewTempDir();
        const string prefix = "conditioner.embedders.1.model.";
        var weights = ClipTextFixture.ReadWeights().Select(kv => new KeyValuePair<string, Tensor>(prefix + kv.Key, kv.Value)).ToList();
        weights.Add(new("model.diffusion_model.conv_in.weight", zeros(4, 4)));
        weights.Add(new("conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", zeros(32)));
        SafetensorsWriter.Save(dir.File("checkpoint.safetensors"), weights);

        using var model = new ClipTextModelWithProjection(ClipTextFixture.Config);
        using var file = SafetensorsFile.Open(dir.File("checkpoint.safetensors"));
        var report = model.LoadWeights(file, prefix);

        Assert.True(report.IsComplete);
        AssertOutputsMatchReference(model);
    }

    [Fact]
    public void Missing_and_unexpected_tensors_are_named_and_nothing_is_loaded()
    {
        using var scope = NewDisposeScope();
        using var dir = TestPaths.NewTempDir();
        var weights = ClipTextFixture.ReadWeights()
            .Where(kv => kv.Key != "text_model.encoder.layers.1.mlp.fc2.bias")
            .Append(new("text_model.encoder.layers.2.mlp.fc2.bias", zeros(32)))
            .ToList();
        var path = dir.File("broken.safetensors");
        SafetensorsWriter.Save(path, weights);

        using var model = new ClipTextModelWithProjection(ClipTextFixture.Config);
        var before = model.state_dict()["text_model.final_layer_norm.bias"].clone();
        using var file = SafetensorsFile.Open(path);
        var error = Assert.Throws<CheckpointFormatException>(() => model.LoadWeights(file));

        Assert.Equal(path, error.Path);
        Assert.Contains("1 missing tensor(s): text_model.encoder.layers.1.mlp.fc2.bias", error.Message, StringComparison.Ordinal);
        Assert.Contains("1 unexpected tensor(s): text_model.encoder.layers.2.mlp.fc2.bias", error.Message, StringComparison.Ordinal);
        Assert.True(before.equal(model.state_dict()["text_model.final_layer_norm.bias"]).all().item<bool>(), "a failed load must not change the model");

        var lenient = model.LoadWeights(file, strict: false);
        Assert.Equal(["text_model.encoder.layers.1.mlp.fc2.bias"], lenient.Missing);
        Assert.Equal(["text_model.encoder.layers.2.mlp.fc2.bias"], lenient.Unexpected);
        Assert.False(lenient.IsComplete);
    }

    [Fact]
    public void Shape_mismatches_fail_even_when_not_strict()
    {
        using var scope = NewDisposeScope();
        using var dir = TestPaths.NewTempDir();
        var weights = ClipTextFixture.ReadWeights()
            .Select(kv => kv.Key == "text_projection.weight" ? new KeyValuePair<string, Tensor>(kv.Key, zeros(32, 16)) : kv)
            .ToList();
        SafetensorsWriter.Save(dir.File("transposed.safetensors"), weights);

        using var model = new ClipTextModelWithProjection(ClipTextFixture.Config);
        using var file = SafetensorsFile.Open(dir.File("transposed.safetensors"));
        var error = Assert.Throws<CheckpointFormatException>(() => model.LoadWeights(file, strict: false));

        Assert.Contains("'text_projection.weight' is [32, 16] in the source but [16, 32] in the model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_model_without_projection_reports_text_projection_as_unexpected()
    {
        using var scope = NewDisposeScope();
        var weights = ClipTextFixture.ReadWeights().ToDictionary(kv => kv.Key, kv => kv.Value);
        using var model = new ClipTextModel(ClipTextFixture.Config);

        var error = Assert.Throws<CheckpointFormatException>(() => ModuleWeights.Load(model, weights, sourceName: "clip weights"));
        Assert.StartsWith("clip weights: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("unexpected tensor(s): text_projection.weight", error.Message, StringComparison.Ordinal);

        var report = ModuleWeights.Load(model, weights, strict: false);
        Assert.Equal(["text_projection.weight"], report.Unexpected);
        Assert.Empty(report.Missing);

        using var noGrad = no_grad();
        var ids = ClipTextFixture.Read("input.input_ids");
        var output = model.forward(ids);
        Assert.Null(output.TextEmbeds);
        Assert.True(ClipTextFixture.MaxAbsDiff(output.LastHiddenState, ClipTextFixture.Read("output.last_hidden_state")) <= 1e-4);
        Assert.True(ClipTextFixture.MaxAbsDiff(output.PooledOutput, ClipTextFixture.Read("output.pooler_output")) <= 1e-4);
    }

    private static void AssertOutputsMatchReference(ClipTextModelWithProjection model)
    {
        using var noGrad = no_grad();
        var output = model.forward(ClipTextFixture.Read("input.input_ids"));
        Assert.True(ClipTextFixture.MaxAbsDiff(output.TextEmbeds!, ClipTextFixture.Read("output.text_embeds")) <= 1e-4);
        Assert.True(ClipTextFixture.MaxAbsDiff(output.LastHiddenState, ClipTextFixture.Read("output.last_hidden_state")) <= 1e-4);
    }
}
