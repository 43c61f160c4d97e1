using SdTune.Training;
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
        var path = Path.Combine(TestPaths.RepositoryRoot, "examples", file);
        var config = TrainingConfig.Load(path);
        config.Validate();
        Assert.Equal(method, config.Method);
        var (code, output, error) = InspectCommandTests.Run("train", "--config", path, "--dry-run");
        Assert.True(code == 0, error);
        Assert.Contains($"method = \"{method}\"", output, StringComparison.Ordinal);
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
