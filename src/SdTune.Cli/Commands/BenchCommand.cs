using System.CommandLine;
using SdTune.IO;
using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune bench methods</c>: the concept benchmark of every fine-tuning method on the toy world.</summary>
internal static class BenchCommand
{
    /// <summary>The report's file name in the output folder.</summary>
    public const string ReportFileName = MethodBenchmark.ReportFileName;

    /// <summary>The chart's file name in the output folder.</summary>
    public const string ChartFileName = MethodBenchmark.ChartFileName;

    public static Command Create() => new("bench", "Benchmarks on the toy world: `bench methods` compares the fine-tuning methods on a new subject; `bench tune` finds each method's best setting; `bench control` scores trained ControlNets and T2I-Adapters.")
    {
        Methods(),
        Tune(),
        BenchControlCommand.Create(),
    };

    private static Command Methods()
    {
        var inputs = new Inputs(Path.Combine("runs", "bench-methods"), "Output folder (data, trained outputs, grids, report.md).");
        var steps = new Option<int>("--steps") { Description = "Training steps per method.", DefaultValueFactory = _ => BenchmarkOptions.DefaultSteps };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per row (each trains and evaluates anew); the table gives mean ± spread.", DefaultValueFactory = _ => BenchmarkOptions.DefaultSeeds };
        var command = new Command("methods", "Fine-tune the toy base model on a new subject with every method and score subject fidelity, prompt fidelity and prior preservation.")
        {
            inputs.Spec, inputs.Model, inputs.Output, inputs.Methods, steps, seeds,
        };
        command.SetAction(parse =>
        {
            var options = inputs.Options(parse) with
            {
                Steps = parse.GetValue(steps),
                Seeds = parse.GetValue(seeds),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var summaries = MethodBenchmark.Run(options, Console.Error.WriteLine);
            var table = MethodBenchmark.ToMarkdown(summaries);
            AtomicFile.WriteAllText(Path.Combine(options.OutputDirectory, ReportFileName), MethodBenchmark.Report(options, table, clock.Elapsed));
            MethodChart.Save([.. summaries.Select(r => r.Mean)], Path.Combine(options.OutputDirectory, ChartFileName));
            Console.WriteLine(table);
            Console.WriteLine($"Grids: {string.Join(", ", summaries.Select(r => r.Grid))}");
            Console.WriteLine($"Chart: {Path.Combine(options.OutputDirectory, ChartFileName)}");
            Console.WriteLine($"The whole table took {clock.Elapsed.TotalMinutes:F1} minutes.");
            return 0;
        });
        return command;
    }

    private static Command Tune()
    {
        var inputs = new Inputs(Path.Combine("runs", "bench-tune"), "Output folder (report.md, chart.png, grids).");
        var factors = new Option<string>("--lr-factors") { Description = "Factors of each row's own learning rate.", DefaultValueFactory = _ => "0.3,1,3" };
        var stepCounts = new Option<string>("--step-counts") { Description = "Step counts to try.", DefaultValueFactory = _ => "150,300,600" };
        var seeds = new Option<int>("--seeds") { Description = "Seeds per setting.", DefaultValueFactory = _ => 1 };
        var minPrior = new Option<double>("--min-prior") { Description = "Prior preservation a setting must keep to be chosen.", DefaultValueFactory = _ => 0.8 };
        var command = new Command("tune", "Sweep learning rate x steps per benchmark row and choose each row's setting by a stated rule (highest subject fidelity with prior preservation at the bar).")
        {
            inputs.Spec, inputs.Model, inputs.Output, inputs.Methods, factors, stepCounts, seeds, minPrior,
        };
        command.SetAction(parse =>
        {
            var options = inputs.Options(parse) with { Seeds = parse.GetValue(seeds) };
            var tuning = new TuningOptions
            {
                LearningRateFactors = Numbers(parse.GetValue(factors)!, "--lr-factors"),
                StepCounts = [.. Numbers(parse.GetValue(stepCounts)!, "--step-counts").Select(n => n == Math.Floor(n) && n is >= 1 and <= int.MaxValue ? (int)n : throw new ArgumentException($"--step-counts: {n} is not a whole number of steps."))],
                MinPriorPreservation = parse.GetValue(minPrior),
            };
            tuning.Validate();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = MethodTuning.Run(options, tuning, Console.Error.WriteLine);
            var table = MethodTuning.ToMarkdown(result);
            var spent = $"{result.Variants.Count} settings, {options.Seeds} seed(s) each; the sweep took {clock.Elapsed.TotalMinutes:F1} minutes.";
            AtomicFile.WriteAllText(Path.Combine(options.OutputDirectory, ReportFileName),
                $"# Tuning sweep: {options.Spec.Subject.Name}\n\n{spent}\n\n{table}\n![subject fidelity against prior preservation]({ChartFileName})\n");
            TuningChart.Save(result, Path.Combine(options.OutputDirectory, ChartFileName));
            Console.WriteLine(table);
            Console.WriteLine(spent);
            return 0;
        });
        return command;
    }

    private static List<double> Numbers(string text, string option) =>
        [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v =>
            double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : throw new ArgumentException($"{option}: '{v}' is not a number."))];

    /// <summary>The options both benchmark commands take: the spec, the base model, the output folder and the rows to run.</summary>
    private sealed class Inputs(string defaultOutput, string outputHelp)
    {
        public Option<string?> Spec { get; } = new("--spec") { Description = "The benchmark spec (subject, class word, prompts, rows); the embedded toyworld/benchmark.toml by default." };

        public Option<string?> Model { get; } = new("--model") { Description = "The base model; the embedded toy base model by default." };

        public Option<string> Output { get; } = new("--out") { Description = outputHelp, DefaultValueFactory = _ => defaultOutput };

        public Option<string?> Methods { get; } = new("--methods") { Description = $"Comma-separated rows of the spec (default: all; the default spec has {string.Join(", ", BenchmarkMethods.All.Select(m => m.Name))})." };

        public BenchmarkOptions Options(ParseResult parse) =>
            BenchmarkOptions.ForSpec(
                BenchmarkSpec.Load(parse.GetValue(Spec) ?? ToyAssets.BenchmarkSpec),
                ToyAssets.ModelOrDefault(parse.GetValue(Model)),
                parse.GetValue(Output)!,
                parse.GetValue(Methods)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
    }
}
