using SdTune.Adapters;
using SdTune.Tests.Workshop;

namespace SdTune.Tests.Cli;

public class LoraCommandTests
{
    [Fact]
    public void Lora_lists_its_subcommands()
    {
        var (code, output, error) = InspectCommandTests.Run("lora");
        Assert.Equal((2, ""), (code, output));
        Assert.Equal("error: sdtune lora needs a command: bake, merge, resize, extract (see sdtune lora --help)", error.TrimEnd('\n'));
    }

    [Fact]
    public void Resize_and_merge_run_and_report_bad_ranks_as_input_errors_naming_the_option()
    {
        using var dir = TestPaths.NewTempDir();
        string model, lora;
        using (var tiny = WorkshopTestKit.Sd1())
        {
            model = WorkshopTestKit.SaveSingleFile(tiny, dir.File("model.safetensors"));
            lora = WorkshopTestKit.WriteRandomLora(tiny, dir.File("lora.safetensors"), new LoraNetworkOptions { Dim = 4, Alpha = 4 }, seed: 1);
        }

        var resized = InspectCommandTests.Run("lora", "resize", lora, "--model", model, "--rank", "4", "--dynamic-method", "sv_fro", "--dynamic-param", "0.9", "--out", dir.File("small.safetensors"));
        Assert.True(resized.ExitCode == 0, resized.Error);
        Assert.Contains("relative Frobenius error mean", resized.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(dir.File("small.safetensors")));

        var merged = InspectCommandTests.Run("lora", "merge", lora, dir.File("small.safetensors"), "--weights", "0.5,0.5", "--model", model, "--out", dir.File("merged.safetensors"));
        Assert.True(merged.ExitCode == 0, merged.Error);

        var tooHigh = InspectCommandTests.Run("lora", "merge", lora, "--method", "svd", "--rank", "5000", "--model", model, "--out", dir.File("m.safetensors"));
        Assert.Equal(2, tooHigh.ExitCode);
        Assert.StartsWith("error: --rank 5000 is above the dimension of module", tooHigh.Error, StringComparison.Ordinal);

        var overwrite = InspectCommandTests.Run("lora", "resize", lora, "--model", model, "--rank", "2", "--out", lora);
        Assert.Equal(2, overwrite.ExitCode);
        Assert.Contains("would overwrite the input", overwrite.Error, StringComparison.Ordinal);
    }
}
