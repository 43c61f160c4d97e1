using System.CommandLine;
using SdTune.IO;
using SdTune.Runtime;
using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune bench methods</c>: the concept benchmark of every fine-tuning method on the toy world.</summary>
internal static class BenchCommand
{
    /// <summary>The report's file name in the output folder.</summary>
    public const string ReportFileName = "report.md";

    /// <summary>The chart's file name in the output folder.</summary>
    public const string ChartFileName = "chart.png";

    public static Command Create() => new("bench", "Benchmarks on the toy world: `bench methods` compares the fine-tuning methods on a new subject.")
    {
        Methods(),
    };

    private static Command Methods()
    {
        var spec = new Option<string?>("--spec") { Description = "The benchmark spec (subject, class word, prompts); the embedded toyworld/benchmark.toml by default." };
        var model = new Option<string?>("--model") { Description = "The base model; the embedded toy base model by default." };
        var output = new Option<string>("--out") { Description = "Output folder (data, trained outputs, grids, report.md).", DefaultValueFactory = _ => Path.Combine("runs", "bench-methods") };
        var methods = new Option<string>("--methods") { Description = $"Comma-separated methods: {string.Join(", ", BenchmarkMethods.All.Select(m => m.Name))}.", DefaultValueFactory = _ => string.Join(",", BenchmarkMethods.All.Select(m => m.Name)) };
        var steps = new Option<int>("--steps") { Description = "Training steps per method.", DefaultValueFactory = _ => BenchmarkOptions.DefaultSteps };
        var command = new Command("methods", "Fine-tune the toy base model on a new subject with every method and score subject fidelity, prompt fidelity and prior preservation.")
        {
            spec, model, output, methods, steps,
        };
        command.SetAction(parse =>
        {
            var options = new BenchmarkOptions
            {
                BaseModel = ToyAssets.ModelOrDefault(parse.GetValue(model)),
                Spec = BenchmarkSpec.Load(parse.GetValue(spec) ?? ToyAssets.BenchmarkSpec),
                OutputDirectory = parse.GetValue(output)!,
                Methods = [.. parse.GetValue(methods)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(BenchmarkMethods.Get)],
                Steps = parse.GetValue(steps),
            };
            var rows = MethodBenchmark.Run(options, Console.Error.WriteLine);
            var table = MethodBenchmark.ToMarkdown(rows);
            AtomicFile.WriteAllText(Path.Combine(options.OutputDirectory, ReportFileName), Report(options, table));
            MethodChart.Save(rows, Path.Combine(options.OutputDirectory, ChartFileName));
            Console.WriteLine(table);
            Console.WriteLine($"Grids: {string.Join(", ", rows.Select(r => r.Grid))}");
            Console.WriteLine($"Chart: {Path.Combine(options.OutputDirectory, ChartFileName)}");
            return 0;
        });
        return command;
    }

    /// <summary>The report: a title, a header line with the run's settings (and the thread count in use), the table and the chart.</summary>
    internal static string Report(BenchmarkOptions options, string table) =>
        $"# Concept benchmark: {options.Spec.Subject.Name} ({options.Spec.Identifier} {options.Spec.ClassWord})\n\n" +
        $"Base model: {options.BaseModel}; spec: {options.Spec.Source}; {options.Steps} steps per method, batch {options.BatchSize}; {Threads(TorchThreads.Current)}; " +
        $"evaluation: {options.Sampler}, {options.SamplingSteps} steps, CFG {options.CfgScale}, {options.Spec.ImagesPerPrompt} pictures per prompt.\n\n{table}\n![quality, file size and training time per method]({ChartFileName})\n";

    private static string Threads(int count) => count == 1 ? "1 CPU thread" : $"{count} CPU threads";
}
