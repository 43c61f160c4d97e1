using System.Globalization;
using SdTune.IO;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// The concept benchmark's chart: each trained method as a point at its output size (log scale) and subject fidelity,
/// the marker's area growing with its training time, labelled with its name and time; the base model's fidelity as a
/// dashed line. The comparison the fine-tuning literature makes (quality against file size against training time), measured.
/// </summary>
public static class MethodChart
{
    /// <summary>Writes the chart of <paramref name="rows"/> as a PNG (atomically).</summary>
    /// <param name="rows">The benchmark's rows (the base model's row gives the baseline).</param>
    /// <param name="path">The PNG to write.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    public static void Save(IReadOnlyList<MethodScore> rows, string path, int width = 1000, int height = 640)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var plot = new ScottPlot.Plot();
        var trained = rows.Where(r => r.Method != MethodBenchmark.BaseRow && r.OutputBytes > 0).ToList();
        var slowest = Math.Max(1, trained.Select(r => r.TrainSeconds).DefaultIfEmpty(1).Max());
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < trained.Count; i++)
        {
            var r = trained[i];
            var x = Math.Log10(r.OutputBytes / 1e6);
            var y = r.SubjectFidelity * 100;
            var marker = plot.Add.Marker(x, y);
            marker.MarkerSize = (float)(8 + (22 * Math.Sqrt(r.TrainSeconds / slowest)));
            marker.Color = palette.GetColor(i);
            var label = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"{r.Method} ({r.TrainSeconds:F0} s)"), x, y);
            label.LabelFontSize = 13;
            label.OffsetX = 12;
            label.OffsetY = -8;
        }

        if (rows.FirstOrDefault(r => r.Method == MethodBenchmark.BaseRow) is { } baseRow)
        {
            var line = plot.Add.HorizontalLine(baseRow.SubjectFidelity * 100);
            line.LinePattern = ScottPlot.LinePattern.Dashed;
            line.Color = ScottPlot.Colors.Gray;
            line.LabelText = "base model";
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = v => Size(Math.Pow(10, v)),
        };
        plot.Axes.Bottom.Label.Text = "output size (log scale)";
        plot.Axes.Left.Label.Text = "subject fidelity (%)";
        plot.Title("Fine-tuning methods on the toy subject: quality, file size, training time (marker area)");
        plot.Axes.SetLimitsY(-5, 105);
        if (trained.Count > 0)
        {
            var xs = trained.Select(r => Math.Log10(r.OutputBytes / 1e6)).ToList();
            plot.Axes.SetLimitsX(xs.Min() - 0.5, xs.Max() + 1.4);
        }

        var bytes = plot.GetImage(width, height).GetImageBytes(ScottPlot.ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    private static string Size(double megabytes) => megabytes switch
    {
        >= 1 => string.Create(CultureInfo.InvariantCulture, $"{megabytes:0.#} MB"),
        >= 0.001 => string.Create(CultureInfo.InvariantCulture, $"{megabytes * 1000:0.#} kB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{megabytes * 1e6:0} B"),
    };
}
