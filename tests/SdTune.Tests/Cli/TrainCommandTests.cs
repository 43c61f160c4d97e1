namespace SdTune.Tests.Cli;

public class TrainCommandTests
{
    [Fact]
    public void Dry_run_prints_the_resolved_configuration_with_overrides()
    {
        using var dir = TestPaths.NewTempDir();
        var config = dir.File("train.toml");
        File.WriteAllText(config, "pretrained_model = \"base.safetensors\"\noutput_dir = \"out\"\ntrain_data_dir = \"data\"\nmax_train_steps = 10\n");
        var (code, output, error) = InspectCommandTests.Run("train", config, "learning_rate=3e-4", "network_dim=8", "--dry-run");
        Assert.True(code == 0, error);
        Assert.Contains("learning_rate = 0.0003", output, StringComparison.Ordinal);
        Assert.Contains("network_dim = 8", output, StringComparison.Ordinal);
        Assert.Contains($"pretrained_model = \"{Path.Combine(dir.Path, "base.safetensors")}\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_configuration_is_one_error_line_naming_the_key()
    {
        using var dir = TestPaths.NewTempDir();
        var config = dir.File("train.toml");
        File.WriteAllText(config, "pretrained_model = \"base.safetensors\"\noutput_dir = \"out\"\ntrain_data_dir = \"data\"\nmax_train_steps = 10\n");
        var (code, _, error) = InspectCommandTests.Run("train", config, "gradient_accumulation_steps=0");
        Assert.Equal(2, code);
        Assert.StartsWith("error: gradient_accumulation_steps: must be at least 1", error, StringComparison.Ordinal);
    }
}
