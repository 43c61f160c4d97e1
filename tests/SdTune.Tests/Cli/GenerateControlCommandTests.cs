using SdTune.Imaging;
using SdTune.Models;
using SdTune.Tests.Pipelines;
using SdTune.Tests.Pipelines.Control;

namespace SdTune.Tests.Cli;

/// <summary><c>sdtune generate</c> with ControlNets and T2I-Adapters on the tiny model saved as a folder.</summary>
public sealed class GenerateControlCommandTests : IDisposable
{
    private readonly TempDir dir = TestPaths.NewTempDir();
    private readonly string model;
    private readonly string controlNet;
    private readonly string image;

    public GenerateControlCommandTests()
    {
        model = GenerateCommandTests.TinyPipelineFolder(dir);
        using var sd = PipelineModels.Sd1();
        controlNet = ControlTestModels.ControlNet(dir, sd.Unet, "tiny-controlnet", randomSeed: 3);
        image = dir.File("ring.png");
        using var bitmap = ControlTestModels.Image();
        PngWriter.Save(image, bitmap);
    }

    public void Dispose() => dir.Dispose();

    private (int ExitCode, string Out, string Error) Generate(params string[] extra) =>
        InspectCommandTests.Run(["generate", "--model", model, "--prompt", "a ring", "--steps", "2", "--seed", "5", "--width", "32", "--height", "32", "--out", dir.File("out"), .. extra]);

    [Fact]
    public void Generate_with_a_controlnet_writes_a_png_whose_infotext_names_the_control()
    {
        var adapter = ControlTestModels.Adapter(dir);
        var (code, stdout, stderr) = Generate("--t2i-adapter", adapter + ":0.5", "--control-image", image, "--controlnet", controlNet + ":0.75", "--control-image", image,
            "--control-end", "1", "--control-end", "0.5", "--control-preprocess", "none", "--control-preprocess", "canny", "--control-resize", "fill");
        Assert.True(code == 0, stderr);
        var file = stdout.Trim();
        var units = ControlNetUnitInfotext.From(GenerationInfotext.Parse(PngText.Find(PngText.Read(file), "parameters")!));
        Assert.Equal(2, units.Count);
        // Controls are numbered in command-line order: the adapter first, then the ControlNet.
        Assert.Equal(("none", "adapter", 0.5, 1.0, "Resize and Fill"), (units[0].Module, units[0].Model, units[0].Weight, units[0].GuidanceEnd, units[0].ResizeMode));
        Assert.Equal(("canny", "tiny-controlnet", 0.75, 0.5), (units[1].Module, units[1].Model, units[1].Weight, units[1].GuidanceEnd));
    }

    public static TheoryData<string[], string> BadControls => new()
    {
        { ["--controlnet", "CN"], "--control-image: 1 control(s) (--controlnet/--t2i-adapter) but 0 control image(s)" },
        { ["--controlnet", "CN", "--control-image", "IMG", "--control-image", "IMG"], "--control-image: 1 control(s) (--controlnet/--t2i-adapter) but 2 control image(s)" },
        { ["--control-image", "IMG"], "--control-image is given without --controlnet or --t2i-adapter" },
        { ["--controlnet", "CN", "--controlnet", "CN", "--controlnet", "CN", "--control-image", "IMG", "--control-image", "IMG", "--control-image", "IMG", "--control-start", "0", "--control-start", "0.5"], "--control-start: given 2 times for 3 control(s)" },
        { ["--controlnet", "CN", "--control-image", "IMG", "--control-preprocess", "hed"], "Unknown preprocessor 'hed'. Valid preprocessors: canny, threshold, invert, gradient" },
        { ["--controlnet", "CN", "--control-image", "IMG", "--control-resize", "zoom"], "--control-resize: Unknown resize mode 'zoom'" },
        { ["--controlnet", "CN", "--control-image", "IMG", "--control-end", "1.5"], "--control-end (--controlnet CN): 1.5 is out of range" },
        { ["--controlnet", "CN", "--control-image", "IMG", "--control-start", "0.8", "--control-end", "0.2"], "the start 0.8 is after the end 0.2" },
        { ["--controlnet", "CN", "--control-image", "GARBAGE"], "GARBAGE' is not an image" },
        { ["--controlnet", "CN", "--control-image", "MISSING"], "MISSING' does not exist" },
        { ["--controlnet", "WRONG", "--control-image", "IMG"], "WRONG: this ControlNet does not fit the UNet: block_out_channels is [64, 128] but the UNet's is [32, 64]" },
        { ["--controlnet", "NOWHERE", "--control-image", "IMG"], "NOWHERE: no such file or folder" },
    };

    [Theory]
    [MemberData(nameof(BadControls))]
    public void Bad_control_input_is_one_error_line_naming_the_option_or_file(string[] options, string expected)
    {
        var garbage = dir.File("garbage.png");
        File.WriteAllText(garbage, "not a png");
        string wrong;
        using (var sd = PipelineModels.Sd1())
        {
            wrong = ControlTestModels.WrongControlNet(dir, sd.Unet);
        }

        string Resolve(string s) => s.Replace("GARBAGE", garbage, StringComparison.Ordinal).Replace("MISSING", dir.File("missing.png"), StringComparison.Ordinal)
            .Replace("NOWHERE", dir.File("no-such-controlnet"), StringComparison.Ordinal).Replace("WRONG", wrong, StringComparison.Ordinal)
            .Replace("CN", controlNet, StringComparison.Ordinal).Replace("IMG", image, StringComparison.Ordinal);
        var (code, stdout, error) = Generate([.. options.Select(Resolve)]);
        Assert.True(code == 2, error);
        Assert.Equal("", stdout);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(Resolve(expected), line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.File("out")));
    }
}
