using SdTune.Training;
using SdTune.Tests.Training;
using SdTune.Training.Data;

namespace SdTune.Tests.Cli;

/// <summary>The example configurations the README shows stay valid.</summary>
public class ExampleConfigTests
{
    [Theory]
    [InlineData("lora.toml", "lora")]
    [InlineData("dreambooth.toml", "dreambooth")]
    public void Example_training_configs_validate(string file, string method)
    {
        var config = TrainingConfig.Load(Path.Combine(TestPaths.RepositoryRoot, "examples", file));
        config.Validate();
        Assert.Equal(method, config.Method);
    }

    /// <summary>
    /// The examples, copied beside pictures laid out as they expect and run with the tiny test model in place of SD 1.5:
    /// the dry run prints the values each run uses (the dataset file's, the method's) and leaves out the rest.
    /// </summary>
    [Theory]
    [InlineData("lora.toml")]
    [InlineData("dreambooth.toml")]
    public void Example_training_configs_dry_run_prints_the_values_the_run_uses(string file)
    {
        using var dir = TestPaths.NewTempDir();
        foreach (var name in new[] { "lora.toml", "dreambooth.toml", "dataset.toml", "prompts.txt" })
        {
            File.Copy(Path.Combine(TestPaths.RepositoryRoot, "examples", name), dir.File(name));
        }

        foreach (var folder in new[] { "train/10_sks dog", "reg/1_dog", "train/sks dog", "class/dog" })
        {
            TrainingTestKit.Images(dir.File(folder), 2, "a dog");
        }

        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        var (code, output, error) = InspectCommandTests.Run("train", "--config", dir.File(file), $"pretrained_model={model}", "--dry-run");
        Assert.True(code == 0, error);
        var settings = output.Split('\n').Where(line => line.Length > 0 && !line.StartsWith('#')).ToList();
        Assert.Contains("resolution = \"512\"", settings);
        if (file == "lora.toml")
        {
            // dataset.toml: resolution 512, batch_size 2, caption_extension ".txt", a reg subset.
            Assert.Contains("train_batch_size = 2", settings);
            Assert.Contains("caption_extension = \".txt\"", settings);
            Assert.Contains("prior_loss_weight = 1.0", settings);
            Assert.Contains("network_args = [\"conv_dim=8\", \"conv_alpha=4\"]", settings);
            Assert.DoesNotContain(settings, line => line.Split(' ')[0] is "save_model_as" or "train_text_encoder" or "num_class_images" or "stop_text_encoder_training");
            Assert.Contains("#   subset 1.2: image_dir", output, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("num_class_images = 200", settings);
            Assert.Contains("save_model_as = \"diffusers,safetensors\"", settings);
            Assert.Contains("train_text_encoder = true", settings);
            Assert.Contains("stop_text_encoder_training = 0.4", settings);
            Assert.DoesNotContain(settings, line => line.StartsWith("network_", StringComparison.Ordinal) || line.StartsWith("caption_extension", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Example_dataset_config_parses()
    {
        var config = DatasetConfig.Load(Path.Combine(TestPaths.RepositoryRoot, "examples", "dataset.toml"));
        Assert.Single(config.Datasets);
        Assert.Equal(2, config.Datasets[0].Subsets.Count);
        Assert.True(config.Datasets[0].Subsets[1].IsReg);
    }

    [Fact]
    public void Example_sample_prompts_parse()
    {
        var prompts = SamplePromptFile.Load(Path.Combine(TestPaths.RepositoryRoot, "examples", "prompts.txt"));
        Assert.Equal(2, prompts.Count);
        Assert.Equal("blurry, lowres", prompts[0].NegativePrompt);
        Assert.Equal(1, prompts[0].Seed);
    }
}
