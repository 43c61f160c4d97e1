using SdTune.Checkpoints.Safetensors;
using SdTune.Tests.Cli;
using static SdTune.Tests.Workshop.TinyCheckpoints;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

/// <summary><c>sdtune merge</c> on the command line: the merged file on standard output, mistakes as one error line with exit code 2.</summary>
public class MergeCommandTests
{
    [Fact]
    public void Merge_writes_the_file_and_prints_its_path()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        Write(dir.File("a.safetensors"), Sdxl, 1, ScalarType.Float16);
        Write(dir.File("b.safetensors"), Sdxl, 2, ScalarType.Float16);
        Write(dir.File("c.safetensors"), Sdxl, 3, ScalarType.Float16);
        var weights = string.Join(",", Enumerable.Repeat("0.5", 20));
        var (code, output, error) = InspectCommandTests.Run("merge", dir.File("a.safetensors"), dir.File("b.safetensors"), dir.File("c.safetensors"),
            "--block-weights", weights, "--dtype", "bf16", "--vae", "a", "--out", dir.File("m.safetensors"));
        Assert.True(code == 0, error);
        Assert.Equal(dir.File("m.safetensors"), output.Trim());
        Assert.Contains("merged", error, StringComparison.Ordinal);
        using var file = SafetensorsFile.Open(dir.File("m.safetensors"));
        Assert.Equal(SafetensorsDType.BF16, file.Info("model.diffusion_model.out.2.weight").DType);
        Assert.Contains("\"add-difference\"", file.Metadata["sd_merge_recipe"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--block-weights: 3 values given", "--block-weights", "0,1,0")]
    [InlineData("--block-weights: 'x' is not a number", "--block-weights", "0,x")]
    [InlineData("--mode must be weighted-sum or add-difference, not 'blend'", "--mode", "blend")]
    [InlineData("--mode add-difference needs three models", "--mode", "add-difference")]
    [InlineData("--alpha: Infinity is out of range", "--alpha", "Infinity")]
    [InlineData("--dtype must be fp32, fp16 or bf16, not 'int8'", "--dtype", "int8")]
    [InlineData("--vae must be merge or a, not 'b'", "--vae", "b")]
    [InlineData("--discard: '(' is not a regular expression", "--discard", "(")]
    public void Mistakes_are_one_error_line_naming_the_option(string expected, string option, string value)
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        Write(dir.File("a.safetensors"), Sd1, 1);
        Write(dir.File("b.safetensors"), Sd1, 2);
        var (code, output, error) = InspectCommandTests.Run("merge", dir.File("a.safetensors"), dir.File("b.safetensors"), option, value, "--out", dir.File("m.safetensors"));
        Assert.Equal((2, ""), (code, output));
        Assert.StartsWith("error: " + expected, error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.False(File.Exists(dir.File("m.safetensors")));
    }

    [Fact]
    public void Overwriting_an_input_or_mixing_architectures_fails_with_exit_code_2_naming_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        Write(dir.File("a.safetensors"), Sd1, 1);
        Write(dir.File("xl.safetensors"), Sdxl, 2);
        var overwrite = InspectCommandTests.Run("merge", dir.File("a.safetensors"), dir.File("xl.safetensors"), "--out", dir.File("a.safetensors"));
        Assert.Equal(2, overwrite.ExitCode);
        Assert.Contains("never overwrites an input", overwrite.Error, StringComparison.Ordinal);

        var folder = InspectCommandTests.Run("merge", dir.Path, dir.File("a.safetensors"), "--out", dir.File("m.safetensors"));
        Assert.Equal((2, $"error: {dir.Path}: a folder; sdtune merge reads single-file checkpoints (.safetensors, .ckpt) in the original layout."), (folder.ExitCode, folder.Error.TrimEnd('\n')));

        var mixed = InspectCommandTests.Run("merge", dir.File("a.safetensors"), dir.File("xl.safetensors"), "--out", dir.File("m.safetensors"));
        Assert.Equal(2, mixed.ExitCode);
        Assert.StartsWith($"error: {dir.File("xl.safetensors")}: an SDXL base checkpoint", mixed.Error, StringComparison.Ordinal);
    }
}
