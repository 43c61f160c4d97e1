using SdTune.Cli.Output;

namespace SdTune.Tests.Cli;

public class PlainStepProgressTests
{
    /// <summary>A clock that moves only when told to.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;

        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    [Fact]
    public void Writes_the_first_step_then_at_most_one_line_per_interval_and_the_last_step()
    {
        var clock = new ManualClock();
        using var writer = new StringWriter();
        var progress = new PlainStepProgress(writer, clock, TimeSpan.FromSeconds(10));
        for (var step = 1; step <= 100; step++)
        {
            clock.Advance(TimeSpan.FromSeconds(0.75));
            progress.Report(step, 100, $"step {step}/100");
        }

        progress.Complete();
        // 0.75 s a step: step 1, then every 14th step (10.5 s later), then the last.
        Assert.Equal("step 1/100|step 15/100|step 29/100|step 43/100|step 57/100|step 71/100|step 85/100|step 99/100|step 100/100", Lines(writer));
    }

    [Fact]
    public void A_run_that_stops_early_still_ends_with_its_last_step_and_no_step_is_written_twice()
    {
        var clock = new ManualClock();
        using var writer = new StringWriter();
        var progress = new PlainStepProgress(writer, clock, TimeSpan.FromSeconds(10));
        progress.Report(1, 50, "step 1/50");
        progress.Report(1, 50, "step 1/50 again");
        progress.Log("saved a.safetensors");
        progress.Report(2, 50, "step 2/50");
        progress.Report(3, 50, "step 3/50");
        progress.Complete();
        progress.Complete();
        Assert.Equal("step 1/50|saved a.safetensors|step 3/50", Lines(writer));
    }

    private static string Lines(StringWriter writer) => string.Join('|', writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
}
