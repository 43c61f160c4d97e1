using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;
using SdTune.Training.Methods;

namespace SdTune.Tests.ToyWorld.Benchmark;

public class MethodBenchmarkTests
{
    private static readonly SdTune.Training.BenchmarkSubject Subject = new("sks", "star");

    [Fact]
    public void Methods_are_found_by_name_and_unknown_names_list_the_known_ones()
    {
        Assert.Same(BenchmarkMethods.LoCon, BenchmarkMethods.Get("LoCon"));
        var e = Assert.Throws<ArgumentException>(() => BenchmarkMethods.Get("nope"));
        Assert.Contains("lora, locon, loha, lokr, adalora, dreambooth, dreambooth-prior, custom-diffusion, textual-inversion, pivotal, hypernetwork", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_method_configuration_validates_as_an_ordinary_training_configuration()
    {
        var shared = new SdTune.Training.TrainingConfig
        {
            PretrainedModel = "base",
            OutputDir = "out",
            DatasetConfig = "dataset.toml",
            Resolution = "32",
            MaxTrainSteps = 10,
        };
        foreach (var method in BenchmarkMethods.All)
        {
            var config = method.Configure(shared, Subject);
            config.Validate();
            Assert.Contains(TrainingMethods.Get(config.Method).Benchmarks, row => row.Name == method.Name);
        }

        Assert.Equal("lora", BenchmarkMethods.Lora.Configure(shared, Subject).Method);
        Assert.Equal("lora", BenchmarkMethods.LoCon.Configure(shared, Subject).Method);
        Assert.Equal("dreambooth", BenchmarkMethods.DreamBooth.Configure(shared, Subject).Method);
        Assert.Equal("dreambooth", BenchmarkMethods.DreamBoothPrior.Configure(shared, Subject).Method);

        Assert.Equal(["conv_dim=8", "conv_alpha=8"], LoraMethod.NetworkArgs.Value(BenchmarkMethods.LoCon.Configure(shared, Subject)));
        Assert.Equal(40, BenchmarkMethods.DreamBoothPrior.ClassImages);
        Assert.Equal(40, BenchmarkMethods.Get("custom-diffusion").ClassImages);
        Assert.All(BenchmarkMethods.All.Where(m => m != BenchmarkMethods.DreamBoothPrior && m.Name != "custom-diffusion"), m => Assert.Equal(0, m.ClassImages));
    }

    [Fact]
    public void The_markdown_table_has_one_row_per_method_with_the_spread_over_seeds()
    {
        var fidelity = new ToyPromptFidelity(1, 0.5, 0.25, 0.125, 8);
        var rows = new[]
        {
            MethodSummary.Of([new MethodScore(MethodBenchmark.BaseRow, "no training", 0, 0.25, 0.5, fidelity, 1, 0.75, 2.5, 0, -1, 0, "a.png")]),
            MethodSummary.Of([new MethodScore("lora", "LoRA", 0.75, 0.8, 0.9, fidelity, 0.875, 0.5, 2.0, 12.3, 500_000_000, 1_234_567, "b.png") { Steps = 600 }]),
            MethodSummary.Of([
                new MethodScore("locon", "LoCon", 0.5, 0.5, 0.5, fidelity, 1, 1, 2.0, 10, 400_000_000, 1_000_000, "c.png") { Steps = 150 },
                new MethodScore("locon", "LoCon", 0.7, 0.6, 0.5, fidelity, 0.8, 1, 2.0, 20, 400_000_000, 1_000_000, "d.png") { Steps = 150 },
            ]),
        };
        var lines = MethodBenchmark.ToMarkdown(rows).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.Equal("| base model | – | 0% / 25% / 50% | 100% / 50% / 25% | 100% | 75% | 2.50 | – | – | – |", lines[2]);
        Assert.Equal("| lora | 600 | 75% / 80% / 90% | 100% / 50% / 25% | 88% | 50% | 2.00 | 12 s | 500 MB | 1.23 MB |", lines[3]);
        // Two seeds: mean ± sample standard deviation (0.5 and 0.7: 60 ± 14; 1 and 0.8: 90 ± 14).
        Assert.Equal("| locon | 150 | 60% ± 14 / 55% ± 7 / 50% ± 0 | 100% / 50% / 25% | 90% ± 14 | 100% ± 0 | 2.00 | 15 s | 400 MB | 1.00 MB |", lines[4]);
        Assert.Equal("c.png", rows[2].Grid);
        Assert.Throws<ArgumentException>(() => MethodSummary.Of([]));
    }
}
