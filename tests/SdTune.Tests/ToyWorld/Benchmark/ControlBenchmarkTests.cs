using SdTune.Cli.Commands;
using SdTune.Models.Control;
using SdTune.Runtime;
using SdTune.Models.Unet;
using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;
using SdTune.Training;
using SdTune.Training.Methods;
using Xunit.Abstractions;

namespace SdTune.Tests.ToyWorld.Benchmark;

/// <summary>
/// The control benchmark in CI, in miniature (a few steps, one seed, one picture per case): it trains both controls,
/// scores every row and writes the grid. How well the controls do is the real run's business, not asserted here.
/// </summary>
public class ControlBenchmarkTests(ITestOutputHelper output)
{
    [Fact]
    public void A_tiny_run_trains_both_controls_scores_every_row_and_writes_the_grid()
    {
        using var dir = TestPaths.NewTempDir();
        var options = new ControlBenchmarkOptions
        {
            BaseModel = Path.Combine(TestPaths.RepositoryRoot, "toyworld", "base-model"),
            OutputDirectory = dir.Path,
            Steps = 3,
            Seeds = 1,
            TrainingPictures = 8,
            BatchSize = 4,
            ImagesPerCase = 1,
            SamplingSteps = 4,
        };

        // Through the command's own run-and-report, so report.md is checked as the CLI writes it.
        var (result, table, _) = BenchControlCommand.RunAndReport(options, output.WriteLine);
        output.WriteLine(table);

        Assert.Equal([ControlBenchmark.NoControlRow, "controlnet", "t2i-adapter"], result.Rows.Select(r => r.Row));
        Assert.Equal(16, result.PicturesPerSeed);
        foreach (var row in result.Rows.Select(r => r.Mean))
        {
            Assert.All(new[] { row.Position, row.Shape, row.Color, row.Background }, v => Assert.InRange(v, 0, 1));
            // Sixteen pictures per measure: every share is a whole number of sixteenths.
            Assert.All(new[] { row.Position, row.Shape, row.Color, row.Background }, v => Assert.Equal(0, (v * 16) - Math.Round(v * 16), 9));
        }

        var (plain, controlNet, adapter) = (result.Rows[0].Mean, result.Rows[1].Mean, result.Rows[2].Mean);
        Assert.Equal(0, plain.TrainSeconds);
        Assert.All(new[] { controlNet, adapter }, r =>
        {
            Assert.True(r.TrainSeconds > 0);
            Assert.True(r.OutputBytes > 10_000, $"{r.Row}: {r.OutputBytes} bytes");
        });
        Assert.True(File.Exists(Path.Combine(dir.Path, "controlnet", "controlnet", "diffusion_pytorch_model.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir.Path, "t2i-adapter", "t2i-adapter", "diffusion_pytorch_model.safetensors")));
        Assert.Equal(8, Directory.GetFiles(Path.Combine(dir.Path, "dataset", "1_toyworld", "conditioning"), "*.png").Length);

        using var grid = SkiaSharp.SKBitmap.Decode(result.Grid);
        // Four rows (conditions, then the three rows) of sixteen 32-pixel pictures, plus labels.
        Assert.True(grid.Width >= 16 * 32 && grid.Height >= 4 * 32, $"grid {grid.Width}x{grid.Height}");
        Assert.Equal(5, table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var report = File.ReadAllText(Path.Combine(dir.Path, "report.md"));
        Assert.Contains(table, report, StringComparison.Ordinal);
        Assert.Contains("3 steps per control, batch 4", report, StringComparison.Ordinal);
        Assert.Contains($"{TorchThreads.Current} CPU thread", report, StringComparison.Ordinal);
        Assert.Contains("16 pictures per measure", report, StringComparison.Ordinal);
        Assert.Contains("](grid.png)", report, StringComparison.Ordinal);
    }

    [Fact]
    public void The_markdown_table_gives_mean_and_spread_and_no_costs_for_the_untrained_row()
    {
        var rows = new[]
        {
            ControlSummary.Of([new ControlScore(ControlBenchmark.NoControlRow, "base", 0.125, 0.9375, 0.875, 1, 0, -1, 0)]),
            ControlSummary.Of([
                new ControlScore("controlnet", "cn", 0.9, 1, 0.8, 1, 30, 400_000_000, 2_830_000),
                new ControlScore("controlnet", "cn", 0.7, 1, 0.9, 1, 50, 400_000_000, 2_830_000),
            ]),
        };
        var lines = ControlBenchmark.ToMarkdown(rows).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("| no control | 12% | 94% | 88% / 100% | – | – | – |", lines[2]);
        Assert.Equal("| controlnet | 80% ± 14 | 100% ± 0 | 85% ± 7 / 100% ± 0 | 40 s | 400 MB | 2.83 MB |", lines[3]);
    }
}
