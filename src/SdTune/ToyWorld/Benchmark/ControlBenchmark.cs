using System.Globalization;
using SdTune.Imaging;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Models.Control;
using SdTune.Models.Unet;
using SdTune.Pipelines.Control;
using SdTune.Training;
using SdTune.Training.Methods;
using SkiaSharp;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// The control benchmark: can a trained ControlNet or T2I-Adapter put a shape where a condition image says, at
/// positions × shapes it never saw with a condition? The toy base model alone ignores position prompts. Both
/// controls train on the same (picture, condition, caption) set (<see cref="ControlCases.Training"/>) from the same
/// base model; every row (no control, ControlNet, T2I-Adapter) then draws the held-out cases
/// (<see cref="ControlCases.Evaluation"/>) from their full captions with the same seeds, and the evaluator reads the
/// position, shape, colour and background back. Each row runs once per seed; the report gives mean ± spread.
/// </summary>
public static class ControlBenchmark
{
    /// <summary>The row of the base model without a control.</summary>
    public const string NoControlRow = "no control";

    /// <summary>The grid's file name in the output folder.</summary>
    public const string GridFileName = "grid.png";

    private sealed record Row(string Name, string Description, ControlType? Type, double LearningRate)
    {
        public string Method => Type == ControlType.ControlNet ? "controlnet" : "t2i-adapter";
    }

    /// <summary>Runs the benchmark.</summary>
    /// <param name="options">What to run.</param>
    /// <param name="log">Receives progress lines.</param>
    /// <returns>One summary per row (no control, ControlNet, T2I-Adapter) and the grid's path.</returns>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static ControlBenchmarkResult Run(ControlBenchmarkOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        log ??= _ => { };
        Directory.CreateDirectory(options.OutputDirectory);
        var generator = new ToyWorldGenerator(options.ImageSize, options.Seed);
        var data = Path.Combine(options.OutputDirectory, "dataset");
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }

        var dataset = ToyDatasetWriter.WriteWithConditions(data, generator, "toyworld", ControlCases.Training(generator, options.TrainingPictures), options.Map, options.BatchSize);
        var cases = ControlCases.Evaluation(generator);
        var conditions = cases.Select(c => generator.RenderCondition(c, options.Map)).ToList();
        var pictures = new List<SKBitmap>(conditions);
        try
        {
            var summaries = new List<ControlSummary>();
            using var baseModel = StableDiffusionModels.Load(options.BaseModel);
            foreach (var row in Rows(options))
            {
                var rounds = new List<ControlScore>();
                for (var round = 0; round < options.Seeds; round++)
                {
                    var (score, first) = RunRow(row, baseModel, dataset, cases, conditions, options, round, log);
                    rounds.Add(score);
                    if (round == 0)
                    {
                        pictures.AddRange(first);
                    }
                    else
                    {
                        first.ToList().ForEach(b => b.Dispose());
                    }
                }

                summaries.Add(ControlSummary.Of(rounds));
            }

            var grid = Path.Combine(options.OutputDirectory, GridFileName);
            var columns = cases.Select(c => $"{ToyNames.Of(c.Shape)}, {ToyNames.Of(c.Position)}").ToList();
            using (var image = ImageGrid.CreateLabelled(pictures, columns, ["condition", .. summaries.Select(s => s.Row)], warn: w => log($"  warning: {w}")))
            {
                PngWriter.Save(grid, image);
            }

            return new ControlBenchmarkResult(summaries, grid, cases.Count * options.ImagesPerCase);
        }
        finally
        {
            pictures.ForEach(b => b.Dispose());
        }
    }

    /// <summary>The rows as a markdown table: each measure's mean over the seeds, ± its spread in points when there are several.</summary>
    /// <param name="rows">The summaries from <see cref="Run"/>.</param>
    public static string ToMarkdown(IReadOnlyList<ControlSummary> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new System.Text.StringBuilder()
            .AppendLine("| row | position accuracy | shape accuracy | prompt fidelity: colour / background | train time | peak memory | output size |")
            .AppendLine("|---|---|---|---|---|---|---|");
        foreach (var summary in rows)
        {
            var (r, s) = (summary.Mean, summary.Spread);
            var several = summary.Rounds.Count > 1;
            string P(Func<ControlScore, double> pick) => BenchmarkFormat.Percent(pick(r), pick(s), several);
            var trained = r.Row != NoControlRow;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Row} | {P(x => x.Position)} | {P(x => x.Shape)} | {P(x => x.Color)} / {P(x => x.Background)} | {BenchmarkFormat.Seconds(r.TrainSeconds, trained)} | " +
                $"{BenchmarkFormat.Memory(r.PeakMemoryBytes)} | {BenchmarkFormat.OutputSize(r.OutputBytes, trained)} |");
        }

        return text.ToString();
    }

    private static IReadOnlyList<Row> Rows(ControlBenchmarkOptions options) =>
    [
        new(NoControlRow, "the base model from the prompt alone", null, 0),
        new("controlnet", "a ControlNet copied from the UNet", ControlType.ControlNet, options.ControlNetLearningRate),
        new("t2i-adapter", "a new T2I-Adapter (its layout fitted to the UNet)", ControlType.T2IAdapter, options.AdapterLearningRate),
    ];

    private static (ControlScore Score, IReadOnlyList<SKBitmap> First) RunRow(Row row, StableDiffusionModel baseModel, string dataset, IReadOnlyList<ToyScene> cases,
        IReadOnlyList<SKBitmap> conditions, ControlBenchmarkOptions options, int round, Action<string> log)
    {
        void Warn(string w) => log($"  warning: {w}");
        if (row.Type is not { } type)
        {
            var plain = ControlEvaluation.Run(baseModel, null, cases, conditions, options, round, Warn);
            Log(row, plain, round, log);
            return (new ControlScore(row.Name, row.Description, plain.Position, plain.Shape, plain.Color, plain.Background, 0, -1, 0), plain.FirstPictures);
        }

        // The first seed's control keeps the row's own folder name; later seeds get their own.
        var output = Path.Combine(options.OutputDirectory, round == 0 ? row.Name : $"{row.Name}-seed{round + 1}");
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        var config = new TrainingConfig
        {
            Method = row.Method,
            PretrainedModel = options.BaseModel,
            OutputDir = output,
            OutputName = row.Name,
            DatasetConfig = dataset,
            Resolution = options.ImageSize.ToString(CultureInfo.InvariantCulture),
            TrainBatchSize = options.BatchSize,
            MaxTrainSteps = options.Steps,
            LearningRate = row.LearningRate,
            LrScheduler = "constant",
            CacheLatents = true,
            Seed = options.Seed + round,
        };
        log($"{row.Name}: training {options.Steps} steps (seed {round + 1} of {options.Seeds})");
        var trained = BenchmarkTraining.Run(row.Name, config, options.BaseModel, log);
        var result = ControlEvaluation.Run(baseModel, (type, trained.Output), cases, conditions, options, round, Warn);
        Log(row, result, round, log);
        return (new ControlScore(row.Name, row.Description, result.Position, result.Shape, result.Color, result.Background, trained.Seconds, trained.PeakMemoryBytes, trained.OutputBytes),
            result.FirstPictures);
    }

    private static void Log(Row row, ControlEvaluation.Result r, int round, Action<string> log) =>
        log($"{row.Name} (seed {round + 1}): position {r.Position:P0}, shape {r.Shape:P0}, colour {r.Color:P0}, background {r.Background:P0}");
}

/// <summary>What <see cref="ControlBenchmark.Run"/> measured.</summary>
/// <param name="Rows">One summary per row: no control, ControlNet, T2I-Adapter.</param>
/// <param name="Grid">The grid PNG: the condition images, then each row's first picture of every held-out case (first seed).</param>
/// <param name="PicturesPerSeed">Pictures behind each measure of one row and seed.</param>
public sealed record ControlBenchmarkResult(IReadOnlyList<ControlSummary> Rows, string Grid, int PicturesPerSeed);
