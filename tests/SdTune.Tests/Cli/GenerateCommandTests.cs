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
    public void Without_a_size_the_image_has_the_models_own_size()
    {
        using var dir = TestPaths.NewTempDir();
        var model = TinyPipelineFolder(dir);
        var output = dir.File("out");
        var (code, stdout, stderr) = InspectCommandTests.Run("generate", "--model", model, "--prompt", "a red circle", "--steps", "1", "--seed", "3", "--out", output);
        Assert.True(code == 0, stderr);
        var file = Assert.Single(Directory.GetFiles(output));
        Assert.Contains(file, stdout, StringComparison.Ordinal);
        var size = Training.TrainingTestKit.FixtureModelSize();
        using var image = SkiaSharp.SKBitmap.Decode(file);
        Assert.Equal((size, size), (image.Width, image.Height));
        var info = GenerationInfotext.Parse(PngText.Find(PngText.Read(file), "parameters")!);
        Assert.Equal((size, size), (info.Width, info.Height));
    }

    /// <summary>Option, bad value, and what the one error line must say.</summary>
    public static TheoryData<string[], string> BadValues => new()
    {
        { ["--steps", "0"], "--steps: 0 is out of range; expected an integer from 1 to 1000" },
        { ["--steps", "1001"], "--steps: 1001 is out of range" },
        { ["--cfg", "1e39"], "--cfg: 1e+39 is out of range; expected a number >= 0 that fits in float32" },
        { ["--cfg", "-1"], "--cfg: -1 is out of range" },
        { ["--cfg", "NaN"], "--cfg: NaN is out of range" },
        { ["--width", "30"], "--width: 30 is out of range; expected a multiple of 8 from 8 to 8192" },
        { ["--width", "0"], "--width: 0 is out of range" },
        { ["--width", "8200"], "--width: 8200 is out of range" },
        { ["--height", "100000"], "--height: 100000 is out of range" },
        { ["--batch", "0"], "--batch: 0 is out of range; expected an integer from 1 to 256" },
        { ["--batch", "100000"], "--batch: 100000 is out of range" },
        { ["--strength", "0"], "--strength: 0 is out of range; expected a number in (0, 1]" },
        { ["--strength", "1.5"], "--strength: 1.5 is out of range" },
        { ["--strength", "NaN"], "--strength: NaN is out of range" },
        { ["--clip-skip", "0"], "--clip-skip: 0 is out of range" },
        { ["--clip-skip", "3"], "--clip-skip: 3 is out of range; expected an integer from 1 to 2 (this model's text encoder has 2 layers)" },
        { ["--seed", "9223372036854775807", "--batch", "2"], "--seed: 9223372036854775807 is out of range for --batch 2" },
        { ["--lora", "style.safetensors:1e39"], "--lora style.safetensors: the weight: 1e+39 is out of range; expected a number that fits in float32" },
        { ["--prompt", "a <lora:style:1e39> circle"], "<lora:style>: weight 1e+39 is out of range" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_value_out_of_range_is_one_error_line_naming_the_option(string[] option, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        var model = TinyPipelineFolder(dir);
        string[] args = ["generate", "--model", model, "--steps", "2", "--out", dir.File("out"), .. option];
        if (!option.Contains("--prompt"))
        {
            args = [.. args, "--prompt", "x"];
        }

        if (option[0] == "--steps")
        {
            args = [.. args.Take(3), .. args.Skip(5)];
        }

        var (code, stdout, error) = InspectCommandTests.Run(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public void Bad_options_fail_with_a_clear_message_and_exit_code_2()
    {
        using var dir = TestPaths.NewTempDir();
        var model = TinyPipelineFolder(dir);
        var (code, _, error) = InspectCommandTests.Run("generate", "--model", model, "--prompt", "x", "--width", "30", "--height", "32", "--out", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("multiple of 8", error, StringComparison.Ordinal);

        var sampler = InspectCommandTests.Run("generate", "--model", model, "--prompt", "x", "--sampler", "Heun++", "--out", dir.Path);
        Assert.Equal(2, sampler.ExitCode);
        Assert.Contains("DPM++ 2M Karras", sampler.Error, StringComparison.Ordinal);

        var missing = InspectCommandTests.Run("generate", "--model", Path.Combine(dir.Path, "nope"), "--prompt", "x", "--width", "32", "--height", "32");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nope", missing.Error, StringComparison.Ordinal);
    }
}
