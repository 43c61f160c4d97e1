using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Tests.Pipelines;
using SdTune.Tests.Training;

namespace SdTune.Tests.Cli;

public class TrainCommandTests
{
    [Fact]
    public void Dry_run_prints_the_resolved_configuration_with_overrides()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        TrainingTestKit.Images(Path.Combine(dir.Path, "data", "2_toy"), 2, "a toy");
        var config = dir.File("train.toml");
        File.WriteAllText(config, $"pretrained_model = \"{Path.GetFileName(model)}\"\noutput_dir = \"out\"\ntrain_data_dir = \"data\"\nmax_train_steps = 10\n");
        var (code, output, error) = InspectCommandTests.Run("train", "--config", config, "learning_rate=3e-4", "network_dim=8", "--dry-run");
        Assert.True(code == 0, error);
        Assert.Contains("learning_rate = 0.0003", output, StringComparison.Ordinal);
        Assert.Contains("network_dim = 8", output, StringComparison.Ordinal);
        Assert.Contains($"pretrained_model = \"{model}\"", output, StringComparison.Ordinal);
        Assert.Contains($"resolution = \"{TrainingTestKit.FixtureModelSize()}\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Method_subcommands_take_the_common_options_as_flags()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        var data = Path.GetDirectoryName(TrainingTestKit.Images(Path.Combine(dir.Path, "data", "2_toy"), 2, "a toy"))!;
        var (code, output, error) = InspectCommandTests.Run("train", "lora", "--model", model, "--train-data-dir", data, "--output-dir", dir.File("out"),
            "--network-dim", "16", "--network-alpha", "8", "--max-train-steps", "100", "--learning-rate", "1e-4", "--dry-run");
        Assert.True(code == 0, error);
        Assert.Contains("method = \"lora\"", output, StringComparison.Ordinal);
        Assert.Contains("network_dim = 16", output, StringComparison.Ordinal);
        Assert.Contains("max_train_steps = 100", output, StringComparison.Ordinal);
        var instance = TrainingTestKit.Images(dir.File("dog"), 2, "x");
        var dreambooth = InspectCommandTests.Run("train", "dreambooth", "--model", model, "--instance-data-dir", instance, "--instance-prompt", "a photo of sks dog",
            "--class-data-dir", dir.File("class"), "--class-prompt", "a photo of dog", "--output-dir", dir.File("out"), "--max-train-steps", "10", "--dry-run");
        Assert.True(dreambooth.ExitCode == 0, dreambooth.Error);
        Assert.Contains("instance_prompt = \"a photo of sks dog\"", dreambooth.Out, StringComparison.Ordinal);
        Assert.Equal(2, InspectCommandTests.Run("train").ExitCode);
    }

    [Fact]
    public void Loha_and_lokr_are_lora_with_the_algorithm_first_in_network_args()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        var data = Path.GetDirectoryName(TrainingTestKit.Images(Path.Combine(dir.Path, "data", "2_toy"), 2, "a toy"))!;
        string[] Args(string command, params string[] extra) =>
            ["train", command, "--model", model, "--train-data-dir", data, "--output-dir", dir.File("out"), "--max-train-steps", "10", .. extra, "--dry-run"];

        var loha = InspectCommandTests.Run(Args("loha", "network_args=[\"conv_dim=4\", \"algo=loha\"]"));
        Assert.True(loha.ExitCode == 0, loha.Error);
        Assert.Contains("method = \"lora\"", loha.Out, StringComparison.Ordinal);
        Assert.Contains("network_args = [\"algo=loha\", \"conv_dim=4\"]", loha.Out, StringComparison.Ordinal);
        var lokr = InspectCommandTests.Run(Args("lokr"));
        Assert.True(lokr.ExitCode == 0, lokr.Error);
        Assert.Contains("network_args = [\"algo=lokr\"]", lokr.Out, StringComparison.Ordinal);

        // Another algorithm in network_args is a contradiction, not something to pick between silently.
        var conflict = InspectCommandTests.Run(Args("lokr", "network_args=[\"algo=loha\"]"));
        Assert.Equal(2, conflict.ExitCode);
        Assert.StartsWith("error: network_args: \"algo=loha\" asks for another algorithm than `sdtune train lokr`", conflict.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_configuration_is_one_error_line_naming_the_key()
    {
        using var dir = TestPaths.NewTempDir();
        var config = dir.File("train.toml");
        File.WriteAllText(config, "pretrained_model = \"base.safetensors\"\noutput_dir = \"out\"\ntrain_data_dir = \"data\"\nmax_train_steps = 10\n");
        var (code, _, error) = InspectCommandTests.Run("train", "--config", config, "gradient_accumulation_steps=0");
        Assert.Equal(2, code);
        Assert.Equal("error: gradient_accumulation_steps: 0 is out of range; expected an integer from 1 to 65536.\n", error);
    }

    [Fact]
    public void An_unknown_config_key_is_one_error_line_naming_the_file_and_the_nearest_key()
    {
        using var dir = TestPaths.NewTempDir();
        var config = dir.File("train.toml");
        File.WriteAllText(config, "pretrained_model = \"base.safetensors\"\nnetwrok_dim = 8\n");
        var (code, _, error) = InspectCommandTests.Run("train", "--config", config, "--dry-run");
        Assert.Equal(2, code);
        Assert.Equal($"error: {config}: netwrok_dim: unknown key; did you mean network_dim?\n", error);

        File.WriteAllText(config, "pretrained_model = \"base.safetensors\"\n");
        var (overrideCode, _, overrideError) = InspectCommandTests.Run("train", "--config", config, "max_train_step=8", "--dry-run");
        Assert.Equal(2, overrideCode);
        Assert.Equal("error: override: max_train_step: unknown key; did you mean max_train_steps?\n", overrideError);
    }

    [Fact]
    public void Dry_run_prints_what_the_run_uses_and_the_run_records_the_same()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        TrainingTestKit.CaptionedDatasetToml(dir.Path, "resolution = 32\nbatch_size = 5");
        var config = dir.File("train.toml");
        File.WriteAllText(config, $"""
            method = "lora"
            pretrained_model = "{Path.GetFileName(model)}"
            output_dir = "out"
            output_name = "circle"
            dataset_config = "dataset.toml"
            network_dim = 2
            max_train_steps = 1
            num_class_images = 100
            save_model_as = "diffusers"
            train_text_encoder = false
            """);
        var (code, printed, error) = InspectCommandTests.Run("train", "--config", config, "--dry-run");
        Assert.True(code == 0, error);
        var settings = printed.Split('\n').Where(line => line.Length > 0 && !line.StartsWith('#')).ToList();
        Assert.Contains("resolution = \"32\"", settings);
        Assert.Contains("train_batch_size = 5", settings);
        Assert.Contains("caption_extension = \".txt\"", settings);
        Assert.DoesNotContain(settings, line => line.StartsWith("save_model_as", StringComparison.Ordinal) || line.StartsWith("train_text_encoder", StringComparison.Ordinal)
            || line.StartsWith("num_class_images", StringComparison.Ordinal));

        var run = InspectCommandTests.Run("train", "--config", config);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(printed, File.ReadAllText(Path.Combine(dir.Path, "out", "config.resolved.toml")));
        using var lora = SafetensorsFile.Open(Path.Combine(dir.Path, "out", "circle.safetensors"));
        Assert.Equal("32x32", lora.Metadata["modelspec.resolution"]);
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
        using var loaded = StableDiffusionModels.Load(model);
        var file = LoraFileReader.Read(lora, new LoraTargets(loaded.Unet, loaded.TextEncoder));
        Assert.Empty(file.UnmatchedKeys);
        Assert.Equal("2", file.Metadata["ss_network_dim"]);
        Assert.True(Directory.GetFiles(output, "*.png", SearchOption.AllDirectories).Length > 0, error + stdout);
    }
}
