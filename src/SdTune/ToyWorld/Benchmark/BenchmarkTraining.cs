using System.Diagnostics;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Runtime;
using SdTune.Training;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// One benchmark row's training, measured as every benchmark measures it: wall time, the process's peak resident
/// memory during the run (reset first), and the size of the output it wrote (a file, or a folder's files).
/// </summary>
internal static class BenchmarkTraining
{
    /// <summary>What one training run produced and cost.</summary>
    /// <param name="Result">The trainer's result.</param>
    /// <param name="Output">The last output written (file or folder).</param>
    /// <param name="Seconds">Wall time of loading the base model and training.</param>
    /// <param name="PeakMemoryBytes">Peak resident memory; -1 where the platform cannot tell.</param>
    /// <param name="OutputBytes">Size of <paramref name="Output"/>.</param>
    public sealed record Measured(TrainingResult Result, string Output, double Seconds, long PeakMemoryBytes, long OutputBytes);

    /// <summary>Loads <paramref name="baseModel"/>, trains <paramref name="config"/> on it and measures the run.</summary>
    /// <exception cref="InvalidOperationException">The training wrote no output.</exception>
    public static Measured Run(string name, TrainingConfig config, string baseModel, Action<string> log)
    {
        ProcessMemory.ResetPeak();
        var clock = Stopwatch.StartNew();
        TrainingResult result;
        using (var model = StableDiffusionModels.Load(baseModel))
        {
            result = new Trainer(config, new TrainerServices
            {
                Model = model,
                Log = line => log($"  {line}"),
            }).Run();
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var peak = ProcessMemory.PeakResidentBytes();
        var file = result.Outputs.LastOrDefault() ?? throw new InvalidOperationException($"{name}: training wrote no output.");
        var bytes = Directory.Exists(file) ? Directory.EnumerateFiles(file, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : new FileInfo(file).Length;
        log($"{name}: trained in {seconds:F0} s, loss {result.LossHistory.Take(10).DefaultIfEmpty().Average():F4} -> {result.LossHistory.TakeLast(10).DefaultIfEmpty().Average():F4}");
        return new Measured(result, file, seconds, peak, bytes);
    }
}
