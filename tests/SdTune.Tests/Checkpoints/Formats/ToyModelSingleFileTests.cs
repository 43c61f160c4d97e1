using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Checkpoints.SingleFile;
using SdTune.IO;
using SdTune.Tests.Cli;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>
/// What SdTune writes, SdTune reads: a single file of the embedded toy model (cross-attention width 32, 2 text heads,
/// its own VAE scaling factor and 32 px sample size, none of which shapes can tell) loads back as the same model.
/// </summary>
public class ToyModelSingleFileTests
{
    private static string ToyModel => Path.Combine(TestPaths.RepositoryRoot, "toyworld", "base-model");

    [Fact]
    public void A_single_file_of_the_toy_model_loads_back_with_its_own_configs_and_generates()
    {
        using var dir = TestPaths.NewTempDir();
        var single = dir.File("toy.safetensors");
        using (var original = StableDiffusionModels.Load(ToyModel))
        {
            SingleFileFormat.Save(original, single);
            using var loaded = StableDiffusionModels.Load(single);
            TinyModels.AssertSameWeights(original, loaded);
            Assert.Equal(original.Unet.Config, loaded.Unet.Config, ConfigComparer.Instance);
            Assert.Equal(original.Vae.Config, loaded.Vae.Config, ConfigComparer.Instance);
            Assert.Equal(original.TextEncoder.Config, loaded.TextEncoder.Config);
            Assert.Equal(original.SchedulerConfig.ToJsonString(), loaded.SchedulerConfig.ToJsonString());
        }

        using (var file = SafetensorsFile.Open(single))
        {
            Assert.Equal("32x32", file.Metadata["modelspec.resolution"]);
            Assert.Contains(EmbeddedConfigs.UnetKey, file.Metadata.Keys);
        }

        var (code, _, error) = InspectCommandTests.Run("generate", "--model", single, "--prompt", "a red star on a blue background", "--steps", "2",
            "--width", "32", "--height", "32", "--out", dir.File("out"));
        Assert.True(code == 0, error);
        Assert.Single(Directory.GetFiles(dir.File("out"), "*.png"));
    }

    [Fact]
    public void Without_recorded_configs_a_resized_sd1_file_is_recognised_and_the_error_names_the_derived_config()
    {
        // A .ckpt cannot carry the configs: the family is recognised from the SD 1.x text encoder of matching width, and
        // the error names the derived config the family's defaults do not fit (here the VAE's 32 norm groups for 16
        // channels) instead of refusing the width.
        using var dir = TestPaths.NewTempDir();
        var ckpt = dir.File("toy.ckpt");
        using (var original = StableDiffusionModels.Load(ToyModel))
        {
            SingleFileFormat.Save(original, ckpt);
        }

        var error = Assert.Throws<CheckpointFormatException>(() => StableDiffusionModels.Load(ckpt));
        Assert.Contains("toy.ckpt", error.Message, StringComparison.Ordinal);
        Assert.Contains("derived", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("cross-attention width", error.Message, StringComparison.Ordinal);
    }
}
