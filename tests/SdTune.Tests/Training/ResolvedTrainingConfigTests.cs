using SdTune.Checkpoints.Safetensors;
using SdTune.Training;
using SdTune.Training.Methods;
using SdTune.Training.Data;

namespace SdTune.Tests.Training;

/// <summary>What a run prints and records is what it uses: values settled against the model and the dataset.</summary>
public sealed class ResolvedTrainingConfigTests
{
    private static TrainingConfig DatasetRun(string root, string datasetKeys, params string[] overrides) =>
        new TrainingConfig
        {
            PretrainedModel = "tiny-model",
            OutputDir = Path.Combine(root, "out"),
            OutputName = "circle",
            DatasetConfig = TrainingTestKit.CaptionedDatasetToml(root, datasetKeys),
            MaxTrainSteps = 1,
        }.With(LoraMethod.NetworkDim, 2).WithOverrides(overrides);

    private static IReadOnlyList<string> Settings(string toml) =>
        [.. toml.Split('\n').Where(line => line.Length > 0 && !line.StartsWith('#'))];

    [Fact]
    public void A_resolution_not_given_is_the_models_own_size()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path) with { Resolution = null };
        using var model = TrainingTestKit.TinyModel();
        var resolved = config.Resolve(model);
        var size = TrainingTestKit.FixtureModelSize();
        Assert.Equal(new PixelSize(size, size), resolved.Resolution);
        Assert.Equal(new PixelSize(size, size), resolved.Dataset!.Datasets[0].Resolution);
        Assert.Contains($"resolution = \"{size}\"", Settings(resolved.ToToml()));
    }

    [Fact]
    public void A_dataset_tomls_own_values_are_printed_not_the_configurations()
    {
        using var dir = TestPaths.NewTempDir();
        var config = DatasetRun(dir.Path, "resolution = 32\nbatch_size = 5", "resolution=64", "train_batch_size=3");
        using var model = TrainingTestKit.TinyModel();
        var resolved = config.Resolve(model);
        var settings = Settings(resolved.ToToml());
        Assert.Contains("resolution = \"32\"", settings);
        Assert.Contains("train_batch_size = 5", settings);
        Assert.Contains("caption_extension = \".txt\"", settings);
        Assert.Equal(new PixelSize(32, 32), resolved.Resolution);
        Assert.Contains("# [[datasets]] 1: resolution 32x32, batch_size 5, enable_bucket false", resolved.ToToml(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_dataset_that_sets_no_resolution_or_batch_size_takes_the_configurations()
    {
        using var dir = TestPaths.NewTempDir();
        var config = DatasetRun(dir.Path, "", "resolution=48", "train_batch_size=3");
        using var model = TrainingTestKit.TinyModel();
        var resolved = config.Resolve(model);
        Assert.Equal(new PixelSize(48, 48), resolved.Dataset!.Datasets[0].Resolution);
        Assert.Equal(3, resolved.Dataset.Datasets[0].BatchSize);
        var settings = Settings(resolved.ToToml());
        Assert.Contains("resolution = \"48\"", settings);
        Assert.Contains("train_batch_size = 3", settings);
    }

    [Fact]
    public void Keys_that_do_not_apply_are_left_out_and_those_set_are_listed_with_the_reason()
    {
        using var dir = TestPaths.NewTempDir();
        var config = DatasetRun(dir.Path, "resolution = 32", "save_model_as=safetensors", "train_text_encoder=false", "num_class_images=200");
        using var model = TrainingTestKit.TinyModel();
        var toml = config.Resolve(model).ToToml();
        var settings = Settings(toml);
        Assert.DoesNotContain(settings, line => line.StartsWith("save_model_as", StringComparison.Ordinal));
        Assert.DoesNotContain(settings, line => line.StartsWith("train_text_encoder", StringComparison.Ordinal));
        Assert.DoesNotContain(settings, line => line.StartsWith("num_class_images", StringComparison.Ordinal));
        Assert.DoesNotContain(settings, line => line.StartsWith("prior_loss_weight", StringComparison.Ordinal));
        Assert.Contains("# save_model_as = \"safetensors\"  (applies to dreambooth and finetune)", toml, StringComparison.Ordinal);
        Assert.Contains("# num_class_images = 200  (needs with_prior_preservation)", toml, StringComparison.Ordinal);
        Assert.Contains("network_dim = 2", settings);

        var dreambooth = TrainingTestKit.DreamBoothConfig(dir.Path).With(LoraMethod.NetworkDim, 8);
        var dreamboothSettings = Settings(dreambooth.Resolve(model).ToToml());
        Assert.DoesNotContain(dreamboothSettings, line => line.StartsWith("network_", StringComparison.Ordinal));
        Assert.DoesNotContain(dreamboothSettings, line => line.StartsWith("caption_extension", StringComparison.Ordinal));
        Assert.Contains("num_class_images = 2", dreamboothSettings);
        Assert.Contains("save_model_as = \"diffusers\"", dreamboothSettings);
    }

    [Fact]
    public void The_resolved_toml_reads_back_to_the_same_run()
    {
        using var dir = TestPaths.NewTempDir();
        var config = DatasetRun(dir.Path, "resolution = 32\nbatch_size = 5", "num_class_images=200", "gradient_checkpointing=true");
        using var model = TrainingTestKit.TinyModel();
        var resolved = config.Resolve(model);
        var again = TrainingConfig.Parse(resolved.ToToml()).Resolve(model);
        Assert.Equal(Settings(resolved.ToToml()), Settings(again.ToToml()));
        Assert.True(resolved.SameRunAs(again.Config));
        Assert.True(again.Config.ReleaseFreedMemory);
        Assert.False(again.Config.VParameterization);
    }

    [Fact]
    public void A_clip_skip_beyond_the_models_text_encoder_is_refused_by_name()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        var config = TrainingTestKit.LoraConfig(dir.Path) with { ClipSkip = model.TextEncoder.Config.NumHiddenLayers + 1 };
        var error = Assert.Throws<TrainingConfigException>(() => config.Resolve(model));
        Assert.Equal("clip_skip", error.Key);
        Assert.DoesNotContain("\n", error.Message, StringComparison.Ordinal);
        Assert.Contains($"expected an integer from 1 to {model.TextEncoder.Config.NumHiddenLayers}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lora_records_the_resolution_it_trained_at()
    {
        using var dir = TestPaths.NewTempDir();
        var config = DatasetRun(dir.Path, "resolution = 32\nbatch_size = 5");
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        using var file = SafetensorsFile.Open(Assert.Single(result.Outputs));
        Assert.Equal("32x32", file.Metadata["modelspec.resolution"]);
        Assert.Equal(config.Resolve(model).ToToml(), File.ReadAllText(Path.Combine(config.OutputDir!, "config.resolved.toml")));
    }
}
