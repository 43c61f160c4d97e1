using SdTune.Imaging;

namespace SdTune.Tests.Cli;

public class GenerateGridCommandTests
{
    private static string[] Common(string model, string output) =>
        ["generate", "--model", model, "--prompt", "a red circle", "--steps", "2", "--width", "32", "--height", "32", "--sampler", "Euler", "--out", output];

    [Fact]
    public void An_xy_grid_saves_one_png_with_infotext_and_its_cells_equal_single_generations()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        var grid = dir.File("grid");
        var (code, stdout, stderr) = InspectCommandTests.Run([.. Common(model, grid), "--x-type", "seed", "--x-values", "1,2", "--y-type", "CFG Scale", "--y-values", "1-7 [2]", "--grid-save-cells"]);
        Assert.True(code == 0, stderr);
        Assert.Equal(["00000-1.png", "00001-2.png", "00002-1.png", "00003-2.png", "grid-00003.png"], Directory.GetFiles(grid).Select(Path.GetFileName).Order());
        Assert.Contains("grid-00003.png", stdout, StringComparison.Ordinal);

        var info = GenerationInfotext.Parse(PngText.Find(PngText.Read(Path.Combine(grid, "grid-00003.png")), "parameters")!);
        Assert.Equal(("a red circle", 1L, 1.0, 2, "tiny-sd1"), (info.Prompt, info.Seed, info.CfgScale, info.Steps, info.ModelName));

        // The cell at seed 2, CFG 7 is the single generation with those settings, byte for byte.
        var single = dir.File("single");
        Assert.Equal(0, InspectCommandTests.Run([.. Common(model, single), "--seed", "2", "--cfg", "7"]).ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(single, "00000-2.png")), File.ReadAllBytes(Path.Combine(grid, "00003-2.png")));

        // A second grid in the same folder does not overwrite the first.
        Assert.Equal(0, InspectCommandTests.Run([.. Common(model, grid), "--seed", "4", "--x-type", "steps", "--x-values", "1,2"]).ExitCode);
        Assert.Contains("grid-00004.png", Directory.GetFiles(grid).Select(Path.GetFileName));
    }

    [Fact]
    public void A_prompt_matrix_makes_every_combination()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        var output = dir.File("out");
        string[] args = [.. Common(model, output), "--seed", "9", "--matrix-different-seeds", "--grid-save-cells", "--prompt-matrix"];
        args[4] = "a red circle|top left|large";
        var (code, _, stderr) = InspectCommandTests.Run(args);
        Assert.True(code == 0, stderr);
        Assert.Equal(["00000-9.png", "00001-10.png", "00002-11.png", "00003-12.png", "grid-00003.png"], Directory.GetFiles(output).Select(Path.GetFileName).Order());
        var last = GenerationInfotext.Parse(PngText.Find(PngText.Read(Path.Combine(output, "00003-12.png")), "parameters")!);
        Assert.Equal("a red circle, top left, large", last.Prompt);
        Assert.NotNull(PngText.Find(PngText.Read(Path.Combine(output, "grid-00003.png")), "parameters"));
    }

    [Theory]
    [InlineData(new[] { "--x-type", "colour", "--x-values", "1" }, "--x-type: unknown axis type 'colour'. Valid axis types: \"Seed\" (seed)")]
    [InlineData(new[] { "--x-type", "steps", "--x-values", "1-5 (+0)" }, "--x-values: '1-5 (+0)': the step in (parentheses) must not be 0.")]
    [InlineData(new[] { "--y-type", "sampler", "--y-values", "Euler, Heun" }, "--y-values: Unknown sampler 'Heun'. Valid samplers:")]
    [InlineData(new[] { "--z-type", "checkpoint", "--z-values", "missing.safetensors" }, "--z-values: checkpoint 'missing.safetensors' not found")]
    [InlineData(new[] { "--x-type", "lora", "--x-values", "nowhere" }, "--x-values: LoRA 'nowhere' not found")]
    [InlineData(new[] { "--x-type", "seed" }, "--x-type is given without --x-values")]
    [InlineData(new[] { "--grid-save-cells" }, "--grid-save-cells is given without --prompt-matrix")]
    [InlineData(new[] { "--prompt-matrix", "--x-type", "seed", "--x-values", "1" }, "--prompt-matrix and --x-type")]
    [InlineData(new[] { "--prompt-matrix" }, "--prompt-matrix: the prompt has no '|'")]
    [InlineData(new[] { "--x-type", "seed", "--x-values", "1,2", "--batch", "2" }, "--batch: a grid makes one picture per cell")]
    public void Bad_grid_options_are_one_line_errors_naming_the_option(string[] options, string message)
    {
        using var dir = TestPaths.NewTempDir();
        var (code, _, stderr) = InspectCommandTests.Run([.. Common(dir.File("no-model"), dir.File("out")), .. options]);
        Assert.NotEqual(0, code);
        Assert.StartsWith("error: " + message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.File("out")));
    }
}
