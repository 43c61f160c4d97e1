using SdTune.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Optimization;

/// <summary>Schedules against values worked out by hand from diffusers' documented formulas.</summary>
public class LearningRateScheduleTests
{
    private const double Tolerance = 1e-12;

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(5, 0.5)]
    [InlineData(10, 1.0)]
    [InlineData(55, 0.5)] // halfway through the 90 decay steps: 0.5 * (1 + cos(pi/2))
    [InlineData(100, 0.0)]
    public void Cosine_after_linear_warmup(long step, double expected)
    {
        var schedule = LearningRateSchedule.Create("cosine", 100, WarmupLength.FromSteps(10));
        Assert.Equal(expected, schedule.Factor(step), Tolerance);
    }

    [Fact]
    public void Cosine_with_a_quarter_of_the_decay_done()
    {
        // warm-up 10 of 110: step 35 is progress 0.25, 0.5 * (1 + cos(pi/4)) = 0.853553...
        var schedule = LearningRateSchedule.Create("cosine", 110, WarmupLength.FromSteps(10));
        Assert.Equal(0.8535533905932737, schedule.Factor(35), Tolerance);
        Assert.Equal(0.0, schedule.Factor(110), Tolerance);
    }

    [Theory]
    [InlineData(5, 0.5)] // warm-up as for cosine
    [InlineData(10, 1.0)]
    [InlineData(55, 0.55)] // halfway: 0.1 + 0.9 * 0.5
    [InlineData(100, 0.1)] // ends at the floor, not at 0
    public void Cosine_with_min_lr_ends_at_its_ratio(long step, double expected)
    {
        var schedule = LearningRateSchedule.Create("cosine_with_min_lr", 100, WarmupLength.FromSteps(10), minLrRatio: 0.1);
        Assert.Equal(expected, schedule.Factor(step), Tolerance);
        Assert.Throws<ArgumentException>(() => LearningRateSchedule.Create("cosine_with_min_lr", 100, minLrRatio: 1.5));
    }

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(3, 0.3)]
    [InlineData(10, 1.0)]
    [InlineData(60, 0.5)]
    [InlineData(110, 0.0)]
    [InlineData(500, 0.0)]
    public void Linear(long step, double expected) =>
        Assert.Equal(expected, LearningRateSchedule.Create("linear", 110, WarmupLength.FromSteps(10)).Factor(step), Tolerance);

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(2, 0.5)]
    [InlineData(4, 1.0)]
    [InlineData(1000, 1.0)]
    public void Constant_with_warmup(long step, double expected) =>
        Assert.Equal(expected, LearningRateSchedule.Create("constant_with_warmup", 100, WarmupLength.FromSteps(4)).Factor(step), Tolerance);

    [Fact]
    public void Constant_ignores_the_warmup_like_diffusers()
    {
        var schedule = LearningRateSchedule.Create("Constant", 100, WarmupLength.FromSteps(10));
        Assert.Equal(1.0, schedule.Factor(0));
        Assert.Equal(1.0, schedule.Factor(1000));
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(25, 0.5)] // progress 0.25, two cycles: cos(pi * 0.5)
    [InlineData(50, 1.0)] // hard restart
    [InlineData(75, 0.5)]
    [InlineData(100, 0.0)]
    public void Cosine_with_hard_restarts(long step, double expected) =>
        Assert.Equal(expected, LearningRateSchedule.Create("cosine_with_restarts", 100, numCycles: 2).Factor(step), Tolerance);

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(5, 0.5)]
    [InlineData(10, 1.0)]
    [InlineData(60, 0.250075)] // ((1e-3 - 1e-7) * 0.5^2 + 1e-7) / 1e-3
    [InlineData(110, 1e-4)]
    [InlineData(200, 1e-4)] // lr_end / lr_init after the end
    public void Polynomial_decays_to_the_absolute_lr_end(long step, double expected)
    {
        var schedule = LearningRateSchedule.Create("polynomial", 110, WarmupLength.FromSteps(10), power: 2, lrEnd: 1e-7, initialLearningRate: 1e-3);
        Assert.Equal(expected, schedule.Factor(step), Tolerance);
    }

    [Fact]
    public void Polynomial_needs_an_initial_rate_above_lr_end()
    {
        Assert.Contains("initial learning rate", Assert.Throws<ArgumentException>(() => LearningRateSchedule.Create("polynomial", 100)).Message);
        Assert.Contains("lr_end", Assert.Throws<ArgumentException>(() => LearningRateSchedule.Create("polynomial", 100, initialLearningRate: 1e-8)).Message);
    }

    [Fact]
    public void Unknown_schedule_lists_the_valid_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => LearningRateSchedule.Create("inverse_sqrt", 100));
        Assert.Contains("'inverse_sqrt'", error.Message);
        Assert.Contains("constant, constant_with_warmup, linear, cosine, cosine_with_restarts, polynomial", error.Message);
        Assert.Equal(LearningRateScheduleKind.CosineWithRestarts, LearningRateSchedule.Create("Cosine-With-Restarts", 10).Kind);
    }

    [Theory]
    [InlineData("10", 200, 10)]
    [InlineData("0.1", 110, 11)]
    [InlineData("5%", 200, 10)]
    [InlineData("29%", 100, 29)] // 0.29 * 100 is 28.999999999999996 in binary
    [InlineData(" 0 ", 50, 0)]
    [InlineData("2.5%", 1000, 25)]
    public void Warmup_as_steps_ratio_or_percent(string text, long total, long expected) =>
        Assert.Equal(expected, WarmupLength.Parse(text).Resolve(total));

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("-3")]
    [InlineData("150%")]
    [InlineData("")]
    public void Bad_warmup_text_is_quoted_in_the_error(string text) =>
        Assert.Contains($"'{text}'", Assert.Throws<FormatException>(() => WarmupLength.Parse(text)).Message);

    [Fact]
    public void Apply_scales_every_groups_initial_rate()
    {
        using var unet = new Parameter(zeros(2));
        using var te = new Parameter(zeros(2));
        using var optimizer = new AdamWOptimizer([new ParameterGroup("unet", [unet], 1e-4), new ParameterGroup("text_encoder", [te], 5e-5)]);
        var schedule = LearningRateSchedule.Create("cosine", 100, WarmupLength.Parse("10%"));
        schedule.Apply(optimizer, 5);
        Assert.Equal(0.5e-4, optimizer.Groups[0].LearningRate, Tolerance);
        Assert.Equal(2.5e-5, optimizer.Groups[1].LearningRate, Tolerance);
        // A pure function of the step: resuming just applies it at the resumed step.
        schedule.Apply(optimizer, 55);
        Assert.Equal(0.5e-4, optimizer.Groups[0].LearningRate, Tolerance);
        Assert.Equal(1e-4, optimizer.Groups[0].InitialLearningRate);
    }

    [Fact]
    public void Prodigy_rate_is_scaled_like_any_other()
    {
        using var p = new Parameter(zeros(2));
        using var prodigy = new ProdigyOptimizer([new ParameterGroup("unet", [p], 1.0)]);
        LearningRateSchedule.Create("linear", 20, WarmupLength.FromSteps(10)).Apply(prodigy, 5);
        Assert.Equal(0.5, prodigy.Groups[0].LearningRate, Tolerance);
        Assert.Equal(1e-6 * 0.5, prodigy.EffectiveLearningRate, Tolerance);
    }
}
