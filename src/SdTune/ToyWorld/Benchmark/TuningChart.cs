using SdTune.IO;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// The tuning sweep's chart: every setting of every method as a point at its prior preservation and subject fidelity
/// (one colour per method, the chosen setting ringed), with the prior-preservation bar as a dashed line — each
/// method's trade-off between learning the subject and keeping the class.
/// </summary>
public static class TuningChart
{
    /// <summary>Writes the chart as a PNG (atomically).</summary>
    public static void Save(TuningResult result, string path, int width = 1000, int height = 640)
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var methods = result.Variants.Select(v => v.Method).Distinct(StringComparer.Ordinal).ToList();
        for (var i = 0; i < methods.Count; i++)
        {
            var points = result.Variants.Where(v => v.Method == methods[i]).ToList();
            var scatter = plot.Add.ScatterPoints(
                points.Select(v => v.Summary.Mean.PriorPreservation * 100).ToArray(),
                points.Select(v => v.Summary.Mean.SubjectFidelity * 100).ToArray());
            scatter.Color = palette.GetColor(i);
            scatter.MarkerSize = 9;
            scatter.LegendText = methods[i];
            if (result.Chosen.GetValueOrDefault(methods[i]) is { } chosen)
            {
                var ring = plot.Add.Marker(chosen.Variant.Summary.Mean.PriorPreservation * 100, chosen.Variant.Summary.Mean.SubjectFidelity * 100);
                ring.MarkerShape = ScottPlot.MarkerShape.OpenCircle;
                ring.MarkerSize = 22;
                ring.Color = palette.GetColor(i);
            }
        }

        var bar = plot.Add.VerticalLine(result.Options.MinPriorPreservation * 100);
        bar.LinePattern = ScottPlot.LinePattern.Dashed;
        bar.Color = ScottPlot.Colors.Gray;
        bar.LabelText = "prior-preservation bar";
        plot.Axes.Bottom.Label.Text = "prior preservation (%)";
        plot.Axes.Left.Label.Text = "subject fidelity (%)";
        plot.Title("Tuning sweep: subject fidelity against prior preservation (ringed: chosen)");
        plot.Axes.SetLimits(-5, 105, -5, 105);
        plot.ShowLegend(ScottPlot.Edge.Right);
        AtomicFile.WriteAllBytes(path, plot.GetImage(width, height).GetImageBytes(ScottPlot.ImageFormat.Png));
    }
}
