using System.CommandLine;
using System.Globalization;
using SdTune.IO;
using SdTune.Runtime;
using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune bench control</c>: ControlNet and T2I-Adapter trained on the toy world, scored on held-out positions × shapes.</summary>
internal static class BenchControlCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "The base model; the embedded toy base model by default." };
        var output = new Option<string>("--out") { Description = "Output folder (dataset, trained controls, grid.png, report.md).", DefaultValueFactory = _ => Path.Combine("runs", "bench-control") };
        var steps = new Option<int>("--steps") { Description = "Training steps of each control.", DefaultValueFactory = _ => ControlBenchmarkOptions.DefaultSteps };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per row (each trains and evaluates anew); the table gives mean ± spread.", DefaultValueFactory = _ => ControlBenchmarkOptions.DefaultSeeds };
        var controlNetLr = new Option<double>("--controlnet-lr") { Description = "The ControlNet's learning rate.", DefaultValueFactory = _ => ControlBenchmarkOptions.DefaultControlNetLearningRate };
        var adapterLr = new Option<double>("--adapter-lr") { Description = "The T2I-Adapter's learning rate.", DefaultValueFactory = _ => ControlBenchmarkOptions.DefaultAdapterLearningRate };
        var map = new Option<string>("--condition") { Description = "Condition images: mask (the shape's silhouette) or edges (its outline).", DefaultValueFactory = _ => "mask" };
        var command = new Command("control", "Train a ControlNet and a T2I-Adapter on toy pictures with condition images and score position, shape and prompt fidelity on held-out positions x shapes.")
        {
            model, output, steps, seeds, map, controlNetLr, adapterLr,
        };
        command.SetAction(parse =>
        {
            var options = new ControlBenchmarkOptions
            {
                BaseModel = ToyAssets.ModelOrDefault(parse.GetValue(model)),
                OutputDirectory = parse.GetValue(output)!,
                Steps = parse.GetValue(steps),
                Seeds = parse.GetValue(seeds),
                ControlNetLearningRate = parse.GetValue(controlNetLr),
                AdapterLearningRate = parse.GetValue(adapterLr),
                Map = Enum.TryParse<ToyConditionMap>(parse.GetValue(map), ignoreCase: true, out var m) && Enum.IsDefined(m)
                    ? m : throw new ArgumentException($"--condition: '{parse.GetValue(map)}' is not mask or edges."),
            };
            var (result, table, elapsed) = RunAndReport(options, Console.Error.WriteLine);
            Console.WriteLine(table);
            Console.WriteLine($"Grid: {result.Grid}");
            Console.WriteLine($"Report: {Path.Combine(options.OutputDirectory, BenchCommand.ReportFileName)}");
            Console.WriteLine($"The whole table took {elapsed.TotalMinutes:F1} minutes.");
            return 0;
        });
        return command;
    }

    /// <summary>Runs the benchmark and writes <c>report.md</c> beside the grid in the output folder; returns the result, the table and the time taken.</summary>
    internal static (ControlBenchmarkResult Result, string Table, TimeSpan Elapsed) RunAndReport(ControlBenchmarkOptions options, Action<string> log)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = ControlBenchmark.Run(options, log);
        var table = ControlBenchmark.ToMarkdown(result.Rows);
        AtomicFile.WriteAllText(Path.Combine(options.OutputDirectory, BenchCommand.ReportFileName), Report(options, result, table, clock.Elapsed));
        return (result, table, clock.Elapsed);
    }

    /// <summary>The report: a title, the run's settings (thread count included), the table, the target and the grid.</summary>
    internal static string Report(ControlBenchmarkOptions options, ControlBenchmarkResult result, string table, TimeSpan elapsed)
    {
        var pictures = result.PicturesPerSeed * options.Seeds;
        var threads = TorchThreads.Current == 1 ? "1 CPU thread" : $"{TorchThreads.Current} CPU threads";
        return string.Create(CultureInfo.InvariantCulture,
            $"# Control benchmark: ControlNet and T2I-Adapter on held-out positions x shapes\n\n" +
            $"Base model: {options.BaseModel}; condition: {options.Map.ToString().ToLowerInvariant()} (white on black); {options.TrainingPictures} training pictures without the " +
            $"{ControlCases.HeldOut().Count} held-out position x shape combinations; {options.Steps} steps per control, batch {options.BatchSize}, constant learning rate " +
            $"{options.ControlNetLearningRate:G3} (ControlNet) / {options.AdapterLearningRate:G3} (T2I-Adapter); {threads}; evaluation: {options.Sampler}, {options.SamplingSteps} steps, " +
            $"CFG {options.CfgScale}, full captions (position included), {options.ImagesPerCase} pictures per held-out case; {options.Seeds} seed(s) per row (mean ± sample standard " +
            $"deviation over the seeds), {pictures} pictures per measure (one picture = {100.0 / pictures:F1} points); the whole table took {elapsed.TotalMinutes:F1} minutes.\n\n" +
            $"{table}\nTarget: position accuracy >= 90% with a control; colour and background fidelity not lower than without one.\n\n" +
            $"![condition images, then each row's first picture per held-out case]({ControlBenchmark.GridFileName})\n");
    }
}
