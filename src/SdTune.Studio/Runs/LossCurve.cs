using System.Globalization;
using System.Text;

namespace SdTune.Studio.Runs;

/// <summary>
/// A run's loss curve: <c>loss.tsv</c> in the run folder, one <c>step TAB loss</c> line per optimizer step, appended by
/// the worker training it. A resumed run appends the steps after its saved state again; the latest value of a step
/// wins; a line cut short by a killed worker (no newline yet, or run into by the next worker's line) is skipped.
/// </summary>
public static class LossCurve
{
    /// <summary>The file's name in the run folder.</summary>
    public const string FileName = "loss.tsv";

    /// <summary>Appends steps' losses to the run folder's curve.</summary>
    public static void Append(string runFolder, IReadOnlyCollection<(long Step, double Loss)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count == 0)
        {
            return;
        }

        var text = new StringBuilder();
        foreach (var (step, loss) in points)
        {
            text.Append(CultureInfo.InvariantCulture, $"{step}\t{loss:R}\n");
        }

        File.AppendAllText(Path.Combine(runFolder, FileName), text.ToString());
    }

    /// <summary>
    /// The curve in step order, at most <paramref name="maxPoints"/> points: a longer curve is cut into that many runs of
    /// consecutive steps, each given as its last step and its mean loss.
    /// </summary>
    public static IReadOnlyList<LossPoint> Read(string runFolder, int maxPoints)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 1);
        var path = Path.Combine(runFolder, FileName);
        var byStep = new SortedDictionary<long, double>();
        if (File.Exists(path))
        {
            // The text after the last newline is a line still being written, or cut short by a killed worker.
            var lines = File.ReadAllText(path).Split('\n');
            foreach (var line in lines.SkipLast(1))
            {
                var tab = line.IndexOf('\t', StringComparison.Ordinal);
                if (tab > 0 && long.TryParse(line.AsSpan(0, tab), NumberStyles.Integer, CultureInfo.InvariantCulture, out var step)
                    && double.TryParse(line.AsSpan(tab + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var loss))
                {
                    byStep[step] = loss;
                }
            }
        }

        var points = byStep.Select(p => new LossPoint(p.Key, p.Value)).ToList();
        if (points.Count <= maxPoints)
        {
            return points;
        }

        var size = (points.Count + maxPoints - 1) / maxPoints;
        return [.. points.Chunk(size).Select(c => new LossPoint(c[^1].Step, c.Average(p => p.Loss)))];
    }
}

/// <summary>A point of a loss curve.</summary>
/// <param name="Step">The optimizer step (the last of the steps it stands for).</param>
/// <param name="Loss">The step's loss (the mean over the steps it stands for).</param>
public sealed record LossPoint(long Step, double Loss);
