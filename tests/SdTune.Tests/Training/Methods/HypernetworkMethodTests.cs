using SdTune.Adapters.Formats;
using SdTune.Adapters.Hypernetworks;
using SdTune.Checkpoints.Hypernetworks;
using SdTune.Pipelines;
using SdTune.Training;
using SdTune.Training.Methods;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

/// <summary>The hypernetwork training method: configuration, frozen base model, output file, continuing and exact resume.</summary>
public sealed class HypernetworkMethodTests
{
    private static TrainingConfig Config(string root, int steps = 4) =>
        (TrainingTestKit.LoraConfig(root, steps) with { Method = "hypernetwork", LearningRate = 1e-2 })
            .With(HypernetworkMethod.Sizes, "32,64")
            .With(HypernetworkMethod.Activation, "relu");

    private static Dictionary<string, Tensor> Base(SdTune.Models.StableDiffusionModel model) => TrainingTestKit.BaseWeights(model, withVae: true);

    private static Dictionary<string, Tensor> Tensors(HypernetworkFileContents file) =>
        file.Layers.SelectMany(l => l.Key.Select(kv => new KeyValuePair<string, Tensor>($"{l.Width}.k.{kv.Key}", kv.Value))
            .Concat(l.Value.Select(kv => new KeyValuePair<string, Tensor>($"{l.Width}.v.{kv.Key}", kv.Value))))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    [Fact]
    public void Training_changes_the_hypernetwork_only_and_writes_an_a1111_file()
    {
        using var dir = TestPaths.NewTempDir();
        // Start from a known file so the change is measurable.
        var start = Path.Combine(dir.Path, "start.pt");
        manual_seed(8);
        using (var initial = new Hypernetwork([32, 64], new HypernetworkSettings { Activation = "relu" }))
        {
            A1111HypernetworkFormat.Save(start, initial, new HypernetworkFileContents { Layers = [], Name = "start", Step = 10 });
        }

        var config = Config(dir.Path).With(HypernetworkMethod.Weights, start);
        using var model = TrainingTestKit.TinyModel();
        var before = Base(model);
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        Assert.Equal(4, result.Steps);
        TrainingTestKit.AssertBitIdentical(before, Base(model));
        Assert.Null(model.Unet.CrossAttentionContext);

        var output = result.Outputs[^1];
        Assert.Equal(Path.Combine(config.OutputDir!, "toy.pt"), output);
        var file = HypernetworkFile.Load(output);
        Assert.Equal("toy", file.Name);
        Assert.Equal(14L, file.Step);
        Assert.Equal("tiny-model", file.SdCheckpointName);
        Assert.Equal("relu", file.ActivationFunc);
        var trained = Tensors(file);
        var initialTensors = Tensors(HypernetworkFile.Load(start));
        Assert.Equal(initialTensors.Keys.Order(StringComparer.Ordinal), trained.Keys.Order(StringComparer.Ordinal));
        foreach (var width in new[] { 32, 64 })
        {
            foreach (var side in new[] { "k", "v" })
            {
                var name = $"{width}.{side}.linear.2.weight";
                Assert.False(initialTensors[name].equal(trained[name]).all().item<bool>(), $"{name} did not train");
            }
        }

        // The output is applied on the base model through the request.
        var request = HypernetworkMethod.Definition.Output.Apply!(new GenerationRequest { Prompt = "a toy" }, output);
        Assert.Equal([(output, 1.0)], request.Hypernetworks);
    }

    [Fact]
    public void A_fresh_run_leaves_the_base_model_bit_identical_and_lowers_the_loss()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 12) with { LearningRate = 3e-2 };
        using var model = TrainingTestKit.TinyModel();
        var before = Base(model);
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        TrainingTestKit.AssertBitIdentical(before, Base(model));
        var file = HypernetworkFile.Load(result.Outputs[^1]);
        Assert.Equal(12L, file.Step);
        Assert.Equal([32L, 64L], file.Layers.Select(l => l.Width));
        Assert.All(result.LossHistory, l => Assert.True(double.IsFinite(l)));
    }

    [Fact]
    public void Dropout_with_gradient_accumulation_resumes_bit_identically()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 6)
            .With(HypernetworkMethod.Dropout, true)
            .With(HypernetworkMethod.LastLayerDropout, true)
            .With(HypernetworkMethod.LayerNorm, true) with
        {
            GradientAccumulationSteps = 2,
            SaveEveryNSteps = 3,
            SaveState = true,
            LrScheduler = "cosine",
        };

        string straight;
        string state;
        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(config, new TrainerServices { Model = model }).Run();
            straight = result.Outputs[^1];
            state = Assert.Single(result.StateFolders, s => s.EndsWith("toy-step00000003-state", StringComparison.Ordinal));
        }

        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(config with { OutputDir = Path.Combine(dir.Path, "resumed"), Resume = state }, new TrainerServices { Model = model }).Run();
            Assert.Equal(3, result.LossHistory.Count);
            var expected = HypernetworkFile.Load(straight);
            var actual = HypernetworkFile.Load(result.Outputs[^1]);
            TrainingTestKit.AssertBitIdentical(Tensors(expected), Tensors(actual));
            Assert.Equal(expected.Step, actual.Step);
            Assert.Equal([0.0, 0.3, 0], actual.DropoutStructure);
        }
    }

    [Fact]
    public void Configuration_errors_name_the_key()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path);
        config.Validate();
        Assert.Contains("hypernetwork", TrainingMethods.Names);

        var activation = Assert.Throws<TrainingConfigException>(() => config.With(HypernetworkMethod.Activation, "relux").Validate());
        Assert.Equal("hypernetwork_activation", activation.Key);
        Assert.Contains("leakyrelu", activation.Message, StringComparison.Ordinal);
        var init = Assert.Throws<TrainingConfigException>(() => config.With(HypernetworkMethod.WeightInit, "Uniform").Validate());
        Assert.Equal("hypernetwork_weight_init", init.Key);
        Assert.Contains("KaimingNormal", init.Message, StringComparison.Ordinal);
        Assert.Equal("hypernetwork_layer_structure", Assert.Throws<TrainingConfigException>(() => config.With(HypernetworkMethod.LayerStructure, "2,1").Validate()).Key);
        Assert.Equal("hypernetwork_sizes", Assert.Throws<TrainingConfigException>(() => config.With(HypernetworkMethod.Sizes, "32,x").Validate()).Key);
        Assert.Equal("hypernetwork_last_layer_dropout", Assert.Throws<TrainingConfigException>(() => config.With(HypernetworkMethod.LastLayerDropout, true).Validate()).Key);

        // The default widths (SD 1.x) do not occur in the tiny model: the run says which widths it has.
        using var model = TrainingTestKit.TinyModel();
        var sizes = Assert.Throws<TrainingConfigException>(() => new Trainer(config.With(HypernetworkMethod.Sizes, "768,320,640,1280"), new TrainerServices { Model = model }).Run());
        Assert.Equal("hypernetwork_sizes", sizes.Key);
        Assert.Contains("32, 64", sizes.Message, StringComparison.Ordinal);
    }
}
