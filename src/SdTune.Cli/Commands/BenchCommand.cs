using System.CommandLine;
using SdTune.IO;
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
        var methods = new Option<string?>("--methods") { Description = $"Comma-separated rows of the spec (default: all; the default spec has {string.Join(", ", BenchmarkMethods.All.Select(m => m.Name))})." };
        var steps = new Option<int>("--steps") { Description = "Training steps per method.", DefaultValueFactory = _ => BenchmarkOptions.DefaultSteps };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per row (each trains and evaluates anew); the table gives mean ± spread.", DefaultValueFactory = _ => BenchmarkOptions.DefaultSeeds };
        var command = new Command("methods", "Fine-tune the toy base model on a new subject with every method and score subject fidelity, prompt fidelity and prior preservation.")
        {
            spec, model, output, methods, steps, seeds,
        };
        command.SetAction(parse =>
        {
            var benchmarkSpec = BenchmarkSpec.Load(parse.GetValue(spec) ?? ToyAssets.BenchmarkSpec);
            var rows = BenchmarkMethods.For(benchmarkSpec);
            var options = new BenchmarkOptions
            {
                BaseModel = ToyAssets.ModelOrDefault(parse.GetValue(model)),
                Spec = benchmarkSpec,
                OutputDirectory = parse.GetValue(output)!,
                Methods = parse.GetValue(methods) is { } names
                    ? [.. names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(n => BenchmarkMethods.Get(n, rows))]
                    : rows,
                Steps = parse.GetValue(steps),
                Seeds = parse.GetValue(seeds),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var summaries = MethodBenchmark.Run(options, Console.Error.WriteLine);
            var table = MethodBenchmark.ToMarkdown(summaries);
            AtomicFile.WriteAllText(Path.Combine(options.OutputDirectory, ReportFileName), Report(options, table, clock.Elapsed));
            MethodChart.Save([.. summaries.Select(r => r.Mean)], Path.Combine(options.OutputDirectory, ChartFileName));
            Console.WriteLine(table);
            Console.WriteLine($"Grids: {string.Join(", ", summaries.Select(r => r.Grid))}");
            Console.WriteLine($"Chart: {Path.Combine(options.OutputDirectory, ChartFileName)}");
            Console.WriteLine($"The whole table took {clock.Elapsed.TotalMinutes:F1} minutes.");
            return 0;
        });
        return command;
    }

    private static string Report(BenchmarkOptions options, string table, TimeSpan elapsed)
    {
        var spec = options.Spec;
        var pictures = spec.Evaluation.Count * spec.ImagesPerPrompt * options.Seeds;
        return $"# Concept benchmark: {spec.Subject.Name} ({spec.Identifier} {spec.ClassWord})\n\n" +
            $"Base model: {options.BaseModel}; spec: {spec.Source}; {options.Steps} steps per method, batch {options.BatchSize}; " +
            $"evaluation: {options.Sampler}, {options.SamplingSteps} steps, CFG {options.CfgScale}, {spec.ImagesPerPrompt} pictures per prompt; " +
            $"{options.Seeds} seed(s) per row (mean ± sample standard deviation over the seeds), {pictures} pictures per measure " +
            $"(one picture = {100.0 / pictures:F1} points); the whole table took {elapsed.TotalMinutes:F1} minutes.\n\n" +
            $"{table}\n![quality, file size and training time per method]({ChartFileName})\n";
    }
}
