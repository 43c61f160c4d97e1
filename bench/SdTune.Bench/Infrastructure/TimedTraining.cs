using System.Diagnostics;
using SdTune.Models;
using SdTune.Training;

namespace SdTune.Bench.Infrastructure;

/// <summary>Runs a training configuration on a built model and times its steps (the first, warm-up step excluded).</summary>
internal static class TimedTraining
{
    /// <summary>Trains and returns the mean seconds per step after the first; marks every step on the timeline when one is given.</summary>
    public static double SecondsPerStep(TrainingConfig config, StableDiffusionModel model, MemoryTimeline? timeline = null)
    {
        timeline?.Mark("model built");
        var stamps = new List<long>();
        var progress = new TrainingProgressCallback(p =>
        {
            stamps.Add(Stopwatch.GetTimestamp());
            timeline?.Mark($"step {p.Step}");
        });
        new Trainer(config, new TrainerServices { Model = model, Progress = progress }).Run();
        return Stopwatch.GetElapsedTime(stamps[0], stamps[^1]).TotalSeconds / Math.Max(1, stamps.Count - 1);
    }

    /// <summary>A memory timeline when <c>SDTUNE_BENCH_TIMELINE=1</c>, else null.</summary>
    public static MemoryTimeline? TimelineIfAsked() => Environment.GetEnvironmentVariable("SDTUNE_BENCH_TIMELINE") == "1" ? new MemoryTimeline() : null;
}
