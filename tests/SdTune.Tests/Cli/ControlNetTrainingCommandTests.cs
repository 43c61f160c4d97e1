using SdTune.Imaging;
using SdTune.Tests.Pipelines;
using SdTune.Tests.Pipelines.Control;
using SdTune.Tests.Training.Methods;

namespace SdTune.Tests.Cli;

/// <summary><c>sdtune train controlnet</c> and <c>train t2i-adapter</c> on the tiny model saved as a folder, and generation with what they wrote.</summary>
public sealed class ControlNetTrainingCommandTests : IDisposable
{
    private readonly TempDir dir = TestPaths.NewTempDir();
    private readonly string model;
    private readonly string data;

    public ControlNetTrainingCommandTests()
    {
        model = GenerateCommandTests.TinyPipelineFolder(dir);
        data = ControlTrainingKit.FolderDataset(dir.Path);
    }

    public void Dispose() => dir.Dispose();

    private (int ExitCode, string Out, string Error) Train(string method, params string[] extra) =>
        InspectCommandTests.Run(["train", method, "--model", model, "--train-data-dir", data, "--output-dir", dir.File("out"), "--output-name", "cn",
            "--resolution", "32", "--batch-size", "2", "--max-train-steps", "1", .. extra]);

    [Fact]
    public void Train_controlnet_writes_a_folder_that_generate_loads()
    {
        var (code, _, error) = Train("controlnet");
        Assert.True(code == 0, error);
        var output = dir.File(Path.Combine("out", "cn"));
        Assert.True(File.Exists(Path.Combine(output, "config.json")), error);
        Assert.True(File.Exists(Path.Combine(output, "diffusion_pytorch_model.safetensors")));

        var image = Path.Combine(data, "2_toy", "conditioning", "img00.png");
        var generated = InspectCommandTests.Run("generate", "--model", model, "--prompt", "a toy", "--steps", "2", "--seed", "5", "--width", "32", "--height", "32",
            "--out", dir.File("images"), "--controlnet", output, "--control-image", image);
        Assert.True(generated.ExitCode == 0, generated.Error);
        Assert.True(File.Exists(generated.Out.Trim()));
    }

    [Fact]
    public void Bad_input_exits_2_naming_the_option_or_file()
    {
        string wrong;
        using (var sd = PipelineModels.Sd1())
        {
            wrong = ControlTestModels.WrongControlNet(dir, sd.Unet);
        }

        var architecture = Train("controlnet", "--controlnet-model-name-or-path", wrong);
        Assert.True(architecture.ExitCode == 2, architecture.Error);
        Assert.Contains("controlnet_model_name_or_path", architecture.Error, StringComparison.Ordinal);
        Assert.Contains("does not fit the UNet", architecture.Error, StringComparison.Ordinal);

        var adapterType = Train("t2i-adapter", "--adapter-type", "huge");
        Assert.True(adapterType.ExitCode == 2, adapterType.Error);
        Assert.Contains("adapter_type", adapterType.Error, StringComparison.Ordinal);
        Assert.Contains("full_adapter, full_adapter_xl, light_adapter", adapterType.Error, StringComparison.Ordinal);

        var conditioning = Path.Combine(data, "2_toy", "conditioning");
        Directory.Delete(conditioning, recursive: true);
        var missing = Train("controlnet");
        Assert.True(missing.ExitCode == 2, missing.Error);
        Assert.Contains(conditioning, missing.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.File(Path.Combine("out", "cn"))));
    }
}
