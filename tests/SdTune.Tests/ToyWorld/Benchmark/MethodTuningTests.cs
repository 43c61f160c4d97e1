using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;
using SdTune.Training;

namespace SdTune.Tests.ToyWorld.Benchmark;

/// <summary>The tuning sweep: its grid of settings, the stated rule, the report and the chart.</summary>
public sealed class MethodTuningTests
{
    private static TuningVariant Variant(double rate, int steps, double fidelity, double prior) =>
        new("lora", rate, steps, MethodSummary.Of([new MethodScore("lora", "LoRA", fidelity, fidelity, fidelity, new ToyPromptFidelity(1, 1, 1, 1, 4), prior, 1, 2, 10, -1, 1000, "g.png")]));

    [Fact]
    public void The_rule_takes_the_highest_subject_fidelity_that_keeps_the_prior_and_breaks_ties_by_fewer_steps()
    {
        var variants = new[]
        {
            Variant(1e-3, 300, 0.9, 0.5), // best fidelity, but the class is lost
            Variant(1e-3, 600, 0.6, 0.85),
            Variant(3e-3, 300, 0.6, 0.8), // ties with the one above: fewer steps wins
            Variant(3e-4, 150, 0.2, 1),
            Variant(1e-4, 150, 0, 1),     // keeps the class but learns nothing: never chosen
        };
        var choice = MethodTuning.Choose(variants, 0.8, 0)!;
        Assert.Equal((3e-3, 300, true), (choice.Variant.LearningRate, choice.Variant.Steps, choice.KeepsBar));
        Assert.Throws<ArgumentException>(() => new TuningOptions { StepCounts = [] }.Validate());
        Assert.Throws<ArgumentException>(() => new TuningOptions { LearningRateFactors = [0] }.Validate());
    }

    [Fact]
    public void Without_a_learning_setting_at_the_bar_the_rule_takes_the_best_trade_off_and_never_a_setting_that_learns_nothing()
    {
        var variants = new[]
        {
            Variant(1e-3, 300, 0.9, 0.3),  // 0.27
            Variant(3e-3, 300, 0.5, 0.7),  // 0.35: the best trade-off
            Variant(3e-3, 600, 0.7, 0.5),  // 0.35 too, but more steps
            Variant(1e-2, 150, 0.1, 1),    // at the bar, but no better than the base model
        };
        var choice = MethodTuning.Choose(variants, 0.8, 0.1)!;
        Assert.Equal((3e-3, 300, false), (choice.Variant.LearningRate, choice.Variant.Steps, choice.KeepsBar));
        Assert.Null(MethodTuning.Choose(variants.Where(v => v.Summary.Mean.SubjectFidelity <= 0.1), 0.8, 0.1));
    }

    [Fact]
    public void A_sweep_scores_every_setting_and_writes_its_chart()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = BenchmarkSpec.Load(Path.Combine(TestPaths.RepositoryRoot, "toyworld", "benchmark.toml"));
        var options = new BenchmarkOptions
        {
            BaseModel = Path.Combine(TestPaths.RepositoryRoot, "toyworld", "base-model"),
            Spec = spec,
            OutputDirectory = dir.Path,
            Methods = [BenchmarkMethods.Get("lora", BenchmarkMethods.For(spec))],
            SamplingSteps = 2,
            Seeds = 1,
        };
        var result = MethodTuning.Run(options, new TuningOptions { LearningRateFactors = [2], StepCounts = [1, 2], MinPriorPreservation = 0 });

        // Each setting is the row's own rate (from the spec) times the factor.
        var own = options.Methods[0].Configure(new TrainingConfig { PretrainedModel = options.BaseModel, OutputDir = "out", DatasetConfig = "dataset.toml" },
            new BenchmarkSubject(spec.Identifier, spec.ClassWord)).LearningRate;
        var rate = Math.Round(2 * own, 9);
        Assert.Equal([(rate, 1), (rate, 2)], result.Variants.Select(v => (Math.Round(v.LearningRate, 9), v.Steps)));
        Assert.All(result.Variants, v => Assert.Equal("lora", v.Method));
        var name = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"lora-lr{rate:G3}-steps");
        Assert.True(Directory.Exists(Path.Combine(dir.Path, name + "2")));
        Assert.Equal(MethodTuning.Choose(result.Variants, 0, result.Base.Mean.SubjectFidelity), result.Chosen["lora"]);
        var report = MethodTuning.ToMarkdown(result);
        Assert.Contains($"| {name}1 |", report, StringComparison.Ordinal);
        Assert.Contains("the highest subject fidelity with prior preservation >= 0%", report, StringComparison.Ordinal);
        TuningChart.Save(result, dir.File("tune.png"), 400, 300);
        using var chart = SkiaSharp.SKBitmap.Decode(dir.File("tune.png"));
        Assert.Equal((400, 300), (chart.Width, chart.Height));
    }
}
