using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;
using SkiaSharp;

namespace SdTune.Tests.ToyWorld.Benchmark;

public sealed class MethodChartTests
{
    private static MethodScore Row(string name, double fidelity, double seconds, long bytes) =>
        new(name, name, fidelity, fidelity, fidelity, new ToyPromptFidelity(1, 0.5, 0.25, 0.2, 4), 1, 1, 2, seconds, -1, bytes, "grid.png");

    [Fact]
    public void The_chart_is_a_png_of_the_asked_size_and_each_method_draws_on_it()
    {
        using var dir = TestPaths.NewTempDir();
        var baseOnly = new[] { Row(MethodBenchmark.BaseRow, 0, 0, 0) };
        var rows = baseOnly.Concat([Row("lora", 0.42, 36, 570_000), Row("dreambooth", 0.33, 39, 15_440_000), Row("textual-inversion", 0.5, 20, 800)]).ToList();
        MethodChart.Save(baseOnly, dir.File("empty.png"), 500, 300);
        MethodChart.Save(rows, dir.File("chart.png"), 500, 300);

        using var empty = SKBitmap.Decode(dir.File("empty.png"));
        using var chart = SKBitmap.Decode(dir.File("chart.png"));
        Assert.Equal((500, 300), (chart.Width, chart.Height));
        static int Coloured(SKBitmap b) => Enumerable.Range(0, b.Width * b.Height).Count(i => b.GetPixel(i % b.Width, i / b.Width) is var c && Math.Max(c.Red, Math.Max(c.Green, c.Blue)) - Math.Min(c.Red, Math.Min(c.Green, c.Blue)) > 60);
        Assert.True(Coloured(chart) > Coloured(empty) + 300, "the methods' markers are missing");
        Assert.Equal([dir.File("chart.png"), dir.File("empty.png")], Directory.GetFiles(dir.Path).Order(StringComparer.Ordinal));
    }
}
