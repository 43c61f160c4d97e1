using SdTune.Pipelines;
using SdTune.Pipelines.Grids;

namespace SdTune.Tests.Pipelines.Grids;

public class PromptMatrixTests
{
    private static readonly GenerationRequest Base = new() { Prompt = "a busy city street in a modern city|illustration|cinematic lighting", Seed = 5, Steps = 2 };

    [Fact]
    public void Every_combination_of_the_optional_parts_in_bit_order()
    {
        Assert.Equal(
            [
                "a busy city street in a modern city",
                "a busy city street in a modern city, illustration",
                "a busy city street in a modern city, cinematic lighting",
                "a busy city street in a modern city, illustration, cinematic lighting",
            ],
            PromptMatrix.Prompts(Base.Prompt));
        Assert.Equal(["x", "a, x", "b, x", "a, b, x"], PromptMatrix.Prompts("x | a | b", variablePartsFirst: true));
    }

    [Fact]
    public void Only_a_bar_outside_brackets_splits()
    {
        Assert.Equal(["a [cat|dog] <lora:x|y:1>", "hat", "(red|blue:1.1)"], PromptMatrix.Parts("a [cat|dog] <lora:x|y:1>|hat|(red|blue:1.1)"));
        Assert.Equal(["a \\| b", "c"], PromptMatrix.Parts("a \\| b|c"));
    }

    [Fact]
    public void The_plan_lays_the_first_parts_across_and_the_rest_down_with_plus_and_minus_labels()
    {
        var plan = PromptMatrix.Plan(Base with { Prompt = "street|a|b|c" });
        Assert.Equal((4, 2, 1, 8), (plan.Columns, plan.Rows, plan.Panels, plan.Cells.Count));
        Assert.Equal(["+\u00A0a\n-\u00A0b", "-\u00A0a\n+\u00A0b"], new[] { plan.ColumnLabels[1], plan.ColumnLabels[2] });
        Assert.Equal(["-\u00A0c", "+\u00A0c"], plan.RowLabels);
        var cell = plan.Cells[6];
        Assert.Equal((2, 1, "street, b, c"), (cell.Column, cell.Row, cell.Request.Prompt));
        Assert.All(plan.Cells, c => Assert.Equal(5, c.Request.Seed));

        var one = PromptMatrix.Plan(Base with { Prompt = "street|a" });
        Assert.Equal((2, 1), (one.Columns, one.Rows));
        Assert.Empty(one.RowLabels);
    }

    [Fact]
    public void Different_seeds_and_a_random_seed_drawn_once()
    {
        Assert.Equal([5L, 6, 7, 8], PromptMatrix.Plan(Base, differentSeeds: true).Cells.Select(c => c.Request.Seed));
        var draws = 0;
        var plan = PromptMatrix.Plan(Base with { Seed = -1 }, randomSeed: () => 1000 + draws++);
        Assert.Equal(1, draws);
        Assert.All(plan.Cells, c => Assert.Equal(1000, c.Request.Seed));
    }

    [Fact]
    public void A_prompt_without_parts_or_with_too_many_is_an_error()
    {
        Assert.Contains("no '|'", Assert.Throws<ArgumentException>(() => PromptMatrix.Plan(Base with { Prompt = "plain" })).Message, StringComparison.Ordinal);
        var many = "x|" + string.Join("|", Enumerable.Range(0, 11).Select(i => $"p{i}"));
        Assert.Contains("at most 10", Assert.Throws<ArgumentException>(() => PromptMatrix.Plan(Base with { Prompt = many })).Message, StringComparison.Ordinal);
    }
}
