using SdTune.Checkpoints;
using SdTune.Imaging;
using SdTune.Tests.Pipelines;

namespace SdTune.Tests.Cli;

public class GenerateCommandTests
{
    /// <summary>The tiny SD 1.x test model saved as a diffusers folder in <paramref name="dir"/>.</summary>
    internal static string TinyPipelineFolder(TempDir dir)
    {
        var folder = Path.Combine(dir.Path, "tiny-sd1");
        using var model = PipelineModels.Sd1();
        DiffusersPipelineFormat.Save(model, folder);
        return folder;
    }

    [Fact]
    public void Generate_writes_pngs_with_a1111_parameters_and_is_byte_reproducible()
    {
        using var dir = TestPaths.NewTempDir();
        var model = TinyPipelineFolder(dir);
        string[] Args(string output) =>
        [
            "generate", "--model", model, "--prompt", "a (red:1.2) circle, top left", "--negative-prompt", "blurry",
            "--sampler", "DPM++ 2M Karras", "--steps", "3", "--cfg", "6.5", "--seed", "1234", "--width", "32", "--height", "32",
            "--batch", "2", "--out", output,
        ];

        var first = Path.Combine(dir.Path, "out1");
        var second = Path.Combine(dir.Path, "out2");
        var (code, stdout, stderr) = InspectCommandTests.Run(Args(first));
        Assert.True(code == 0, stderr);
        Assert.Equal(0, InspectCommandTests.Run(Args(second)).ExitCode);

        var files = Directory.GetFiles(first).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["00000-1234.png", "00001-1235.png", "grid-00001.png"], files);
        foreach (var file in files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(first, file!)), File.ReadAllBytes(Path.Combine(second, file!)));
        }

        Assert.Contains("00000-1234.png", stdout, StringComparison.Ordinal);
        var text = PngText.Find(PngText.Read(Path.Combine(first, "00001-1235.png")), "parameters");
        var info = GenerationInfotext.Parse(text!);
        Assert.Equal("a (red:1.2) circle, top left", info.Prompt);
        Assert.Equal("blurry", info.NegativePrompt);
        Assert.Equal((3, "DPM++ 2M Karras", 6.5, 1235L, 32, 32), (info.Steps, info.Sampler, info.CfgScale, info.Seed, info.Width, info.Height));
        Assert.Equal("tiny-sd1", info.ModelName);
    }

    [Fact]
    public void Bad_options_fail_with_a_clear_message_and_exit_code_2()
    {
        using var dir = TestPaths.NewTempDir();
        var model = TinyPipelineFolder(dir);
        var (code, _, error) = InspectCommandTests.Run("generate", "--model", model, "--prompt", "x", "--width", "30", "--height", "32", "--out", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("multiples of 8", error, StringComparison.Ordinal);

        var sampler = InspectCommandTests.Run("generate", "--model", model, "--prompt", "x", "--sampler", "Heun++", "--out", dir.Path);
        Assert.Equal(2, sampler.ExitCode);
        Assert.Contains("DPM++ 2M Karras", sampler.Error, StringComparison.Ordinal);

        var missing = InspectCommandTests.Run("generate", "--model", Path.Combine(dir.Path, "nope"), "--prompt", "x", "--width", "32", "--height", "32");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nope", missing.Error, StringComparison.Ordinal);
    }
}
