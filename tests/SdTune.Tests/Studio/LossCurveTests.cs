using SdTune.Studio.Runs;

namespace SdTune.Tests.Studio;

/// <summary>A run's loss curve file: resumed steps, a torn last line and long curves.</summary>
public sealed class LossCurveTests
{
    [Fact]
    public void A_resumed_run_s_repeated_steps_take_the_latest_loss_and_a_torn_line_is_skipped()
    {
        using var folder = TestPaths.NewTempDir();
        LossCurve.Append(folder.Path, [(1, 0.5), (2, 0.4), (3, 0.3)]);
        LossCurve.Append(folder.Path, [(3, 0.25), (4, 0.2)]);
        File.AppendAllText(Path.Combine(folder.Path, LossCurve.FileName), "5\t0.1");   // cut short, then run into by the next line
        LossCurve.Append(folder.Path, [(5, 0.15)]);
        File.AppendAllText(Path.Combine(folder.Path, LossCurve.FileName), "6\t0.12");  // cut short at the end

        var curve = LossCurve.Read(folder.Path, 100);

        Assert.Equal([new(1, 0.5), new(2, 0.4), new(3, 0.25), new(4, 0.2)], curve);
    }

    [Fact]
    public void A_long_curve_is_read_as_means_of_consecutive_steps_ending_at_the_last_step()
    {
        using var folder = TestPaths.NewTempDir();
        LossCurve.Append(folder.Path, [.. Enumerable.Range(1, 10).Select(s => ((long)s, (double)s))]);

        var curve = LossCurve.Read(folder.Path, 4);

        // 10 steps in at most 4 points: runs of 3 steps (1-3, 4-6, 7-9, 10).
        Assert.Equal([new(3, 2.0), new(6, 5.0), new(9, 8.0), new LossPoint(10, 10.0)], curve);
        Assert.Empty(LossCurve.Read(Path.Combine(folder.Path, "none"), 4));
    }
}
