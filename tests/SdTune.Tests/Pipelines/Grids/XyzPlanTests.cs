using SdTune.Pipelines;
using SdTune.Pipelines.Grids;

namespace SdTune.Tests.Pipelines.Grids;

public class XyzPlanTests
{
    private static readonly GenerationRequest Base = new() { Prompt = "a man holding an apple, 8k clean", NegativePrompt = "an apple core", Seed = 7, Steps = 3, CfgScale = 5 };

    private static XyzAxisText X(string type, string values) => new("--x", type, values);

    private static XyzAxisText Y(string type, string values) => new("--y", type, values);

    private static XyzAxisText Z(string type, string values) => new("--z", type, values);

    [Fact]
    public void X_goes_across_Y_down_and_Z_from_panel_to_panel_with_labelled_values()
    {
        var plan = XyzPlan.Create(Base, X("cfg", "1-7 [3]"), Y("Seed", "10, 20"), Z("sampler", "euler, DDIM"));
        Assert.Equal((3, 2, 2, 12), (plan.Columns, plan.Rows, plan.Panels, plan.Cells.Count));
        Assert.Equal(["CFG Scale: 1", "CFG Scale: 4", "CFG Scale: 7"], plan.ColumnLabels);
        Assert.Equal(["Seed: 10", "Seed: 20"], plan.RowLabels);
        Assert.Equal(["Euler", "DDIM"], plan.PanelLabels);
        var cells = plan.Cells.Select(c => (c.Column, c.Row, c.Panel, c.Request.CfgScale, c.Request.Seed, c.Request.Sampler)).ToList();
        Assert.Equal((0, 0, 0, 1.0, 10L, "Euler"), cells[0]);
        Assert.Equal((2, 0, 0, 7.0, 10L, "Euler"), cells[2]);
        Assert.Equal((0, 1, 0, 1.0, 20L, "Euler"), cells[3]);
        Assert.Equal((1, 1, 1, 4.0, 20L, "DDIM"), cells[10]);
        Assert.All(plan.Cells, c => Assert.Equal((3, "a man holding an apple, 8k clean", 1), (c.Request.Steps, c.Request.Prompt, c.Request.BatchSize)));
    }

    [Fact]
    public void Prompt_search_and_replace_uses_the_first_value_as_the_search_text()
    {
        var plan = XyzPlan.Create(Base, X("Prompt S/R", "an apple, a watermelon, \"a gun, loaded\""));
        Assert.Equal(["an apple", "a watermelon", "a gun, loaded"], plan.ColumnLabels);
        Assert.Equal(
            ["a man holding an apple, 8k clean", "a man holding a watermelon, 8k clean", "a man holding a gun, loaded, 8k clean"],
            plan.Cells.Select(c => c.Request.Prompt));
        Assert.Equal("a watermelon core", plan.Cells[1].Request.NegativePrompt);

        var e = Assert.Throws<ArgumentException>(() => XyzPlan.Create(Base, X("prompt-sr", "a pear, a plum")));
        Assert.Contains("--x-values", e.Message, StringComparison.Ordinal);
        Assert.Contains("'a pear' is not in the prompt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Steps_and_a_random_seed_drawn_once_for_every_cell()
    {
        var draws = new Queue<long>([111, 222, 333]);
        var plan = XyzPlan.Create(Base with { Seed = -1 }, X("steps", "1-5 (+2)"), randomSeed: draws.Dequeue);
        Assert.Equal([1, 3, 5], plan.Cells.Select(c => c.Request.Steps));
        Assert.All(plan.Cells, c => Assert.Equal(111, c.Request.Seed));

        var seeds = XyzPlan.Create(Base, X("seed", "-1, 4"), randomSeed: draws.Dequeue);
        Assert.Equal(["Seed: 222", "Seed: 4"], seeds.ColumnLabels);
    }

    [Fact]
    public void Lora_weight_applies_to_the_lora_files_of_the_file_axis_on_any_axis()
    {
        using var dir = TestPaths.NewTempDir();
        File.WriteAllBytes(dir.File("style.safetensors"), [0]);
        File.WriteAllBytes(dir.File("other.safetensors"), [0]);
        var plan = XyzPlan.Create(Base, X("lora-weight", "0.5, 1"), Y("LoRA file", "none, style, other:0.3"), loraFolder: dir.Path);
        Assert.Equal(["LoRA weight: 0.5", "LoRA weight: 1"], plan.ColumnLabels);
        Assert.Equal(["no LoRA", "style", "other:0.3"], plan.RowLabels);
        Assert.Empty(plan.Cells[0].Request.Loras);
        Assert.Equal([(dir.File("style.safetensors"), 0.5)], plan.Cells[2].Request.Loras);
        Assert.Equal([(dir.File("other.safetensors"), 1.0)], plan.Cells[5].Request.Loras);

        var none = Assert.Throws<ArgumentException>(() => XyzPlan.Create(Base, X("lora-weight", "0.5, 1")));
        Assert.Contains("--x-type: the LoRA weight axis", none.Message, StringComparison.Ordinal);
        var withFlag = XyzPlan.Create(Base with { Loras = [("a.safetensors", 1.0)] }, X("lora-weight", "0-1 [3]"));
        Assert.Equal([0.5], withFlag.Cells[1].Request.Loras.Select(l => l.Weight));
    }

    [Fact]
    public void Cells_are_generated_grouped_by_checkpoint_then_lora_file()
    {
        using var dir = TestPaths.NewTempDir();
        Directory.CreateDirectory(dir.File("model-a"));
        File.WriteAllBytes(dir.File("model-b.safetensors"), [0]);
        File.WriteAllBytes(dir.File("l1.safetensors"), [0]);
        File.WriteAllBytes(dir.File("l2.safetensors"), [0]);
        var plan = XyzPlan.Create(Base, X("checkpoint", $"{dir.File("model-a")},{dir.File("model-b.safetensors")}"), Y("lora", $"{dir.File("l1.safetensors")},{dir.File("l2.safetensors")}"));
        Assert.Equal(["model-a", "model-b"], plan.ColumnLabels);
        Assert.Equal(["l1", "l2"], plan.RowLabels);
        Assert.Equal([0, 2, 1, 3], plan.GenerationOrder());
        Assert.Equal(dir.File("model-b.safetensors"), plan.Cells[3].Checkpoint);
    }

    [Theory]
    [InlineData("colour", "1,2", "--x-type: unknown axis type 'colour'. Valid axis types: \"Seed\" (seed), \"Steps\" (steps)")]
    [InlineData("steps", "1-5 (+0)", "--x-values: '1-5 (+0)': the step in (parentheses) must not be 0.")]
    [InlineData("steps", "ten", "--x-values: 'ten' is not a whole number or a range")]
    [InlineData("steps", "0, 4", "--x-values: Steps: 0: --steps:")]
    [InlineData("cfg", "-1", "--x-values: CFG Scale: -1: --cfg:")]
    [InlineData("sampler", "Euler a, Heun", "--x-values: Unknown sampler 'Heun'. Valid samplers: \"Euler a\" (euler-a)")]
    [InlineData("seed", "", "--x-values: no values for the Seed axis.")]
    public void Bad_axis_types_and_values_are_errors_naming_the_option(string type, string values, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => XyzPlan.Create(Base, X(type, values)));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_files_and_repeated_axes_are_errors()
    {
        var checkpoint = Assert.Throws<FileNotFoundException>(() => XyzPlan.Create(Base, null, Y("checkpoint", "nowhere.safetensors")));
        Assert.StartsWith("--y-values: checkpoint 'nowhere.safetensors' not found", checkpoint.Message, StringComparison.Ordinal);
        var lora = Assert.Throws<FileNotFoundException>(() => XyzPlan.Create(Base, X("lora", "missing")));
        Assert.StartsWith("--x-values: LoRA 'missing' not found", lora.Message, StringComparison.Ordinal);
        var twice = Assert.Throws<ArgumentException>(() => XyzPlan.Create(Base, X("steps", "1,2"), Z("Steps", "3")));
        Assert.Contains("--z-type: the Steps axis is already --x", twice.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => XyzPlan.Create(Base, null));
        Assert.Contains("at most 4096", Assert.Throws<ArgumentException>(() => XyzPlan.Create(Base, X("seed", "1-100"), Y("steps", "1-100"))).Message, StringComparison.Ordinal);
    }
}
