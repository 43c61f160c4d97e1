using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Tests.Pipelines;
using SdTune.Tests.Training;

namespace SdTune.Tests.Cli;

public class TrainCommandTests
{
    [Fact]
    public void Dry_run_prints_the_resolved_configuration_with_overrides()
    {
        using var dir = TestPaths.NewTempDir();
        var config = dir.File("train.toml");
        File.WriteAllText(config, "pretrained_model = \"base.safetensors\"\noutput_dir = \"out\"\ntrain_data_dir = \"data\"\nmax_train_steps = 10\n");
        var (code, output, error) = InspectCommandTests.Run("train", "--config", config, "learning_rate=3e-4", "network_dim=8", "--dry-run");
        Assert.True(code == 0, error);
        Assert.Contains("learning_rate = 0.0003", output, StringComparison.Ordinal);
        Assert.Contains("network_dim = 8", output, StringComparison.Ordinal);
        Assert.Contains($"pretrained_model = \"{Path.Combine(dir.Path, "base.safetensors")}\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Method_subcommands_take_the_common_options_as_flags()
    {
        var (code, output, error) = InspectCommandTests.Run("train", "lora", "--model", "base.safetensors", "--train-data-dir", "data", "--output-dir", "out",
            "--network-dim", "16", "--network-alpha", "8", "--max-train-steps", "100", "--learning-rate", "1e-4", "--dry-run");
        Assert.True(code == 0, error);
        Assert.Contains("method = \"lora\"", output, StringComparison.Ordinal);
        Assert.Contains("network_dim = 16", output, StringComparison.Ordinal);
        Assert.Contains("max_train_steps = 100", output, StringComparison.Ordinal);
        var dreambooth = InspectCommandTests.Run("train", "dreambooth", "--model", "base", "--instance-data-dir", "dog", "--instance-prompt", "a photo of sks dog",
            "--class-data-dir", "class", "--class-prompt", "a photo of dog", "--output-dir", "out", "--max-train-steps", "10", "--dry-run");
        Assert.True(dreambooth.ExitCode == 0, dreambooth.Error);
        Assert.Contains("instance_prompt = \"a photo of sks dog\"", dreambooth.Out, StringComparison.Ordinal);
        Assert.Equal(2, InspectCommandTests.Run("train").ExitCode);
    }

    [Fact]
    public void An_invalid_configuration_is_one_error_line_naming_the_key()
    {
        using var dir = TestPaths.NewTempDir();
        var config = dir.File("train.toml");
        File.WriteAllText(config, "pretrained_model = \"base.safetensors\"\noutput_dir = \"out\"\ntrain_data_dir = \"data\"\nmax_train_steps = 10\n");
        var (code, _, error) = InspectCommandTests.Run("train", "--config", config, "gradient_accumulation_steps=0");
        Assert.Equal(2, code);
        Assert.StartsWith("error: gradient_accumulation_steps: must be at least 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_lora_end_to_end_writes_a_loadable_lora_and_sample_images()
    {
        using var dir = TestPaths.NewTempDir();
        var model = Path.Combine(dir.Path, "base");
        using (var tiny = PipelineModels.Sd1())
        {
            DiffusersPipelineFormat.Save(tiny, model);
        }

        var data = Path.Combine(dir.Path, "data");
        TrainingTestKit.Images(Path.Combine(data, "2_red circle"), 2, "a red circle");
        var prompts = dir.File("prompts.txt");
        File.WriteAllText(prompts, "a red circle --w 32 --h 32 --s 2 --d 5\n");
        var output = Path.Combine(dir.Path, "out");
        var (code, stdout, error) = InspectCommandTests.Run("train", "lora", "--model", model, "--train-data-dir", data, "--output-dir", output,
            "--output-name", "circle", "--resolution", "32", "--max-train-steps", "2", "--network-dim", "2", "--sample-prompts", prompts, "--sample-every-n-steps", "2");
        Assert.True(code == 0, error);
        var lora = Path.Combine(output, "circle.safetensors");
        Assert.Contains(lora, stdout, StringComparison.Ordinal);
        using var loaded = StableDiffusionModel.Load(model);
        var file = LoraFileReader.Read(lora, new LoraTargets(loaded.Unet, loaded.TextEncoder));
        Assert.Empty(file.UnmatchedKeys);
        Assert.Equal("2", file.Metadata["ss_network_dim"]);
        Assert.True(Directory.GetFiles(output, "*.png", SearchOption.AllDirectories).Length > 0, error + stdout);
    }
}
