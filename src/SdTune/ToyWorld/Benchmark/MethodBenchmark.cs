using SdTune.Checkpoints;
using SdTune.Imaging;
using SdTune.Models;
using SdTune.Pipelines;
using SdTune.Runtime;
using SdTune.Training;
using SdTune.Training.Methods;
using SkiaSharp;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// The concept benchmark, the DreamBooth paper's protocol in miniature: the base model is scored on the spec's
/// prompts, then every method trains on the spec's instance pictures from the same base model and is scored the same
/// way, with the same seeds. Each row gets a labelled grid PNG; the report is a markdown table.
/// </summary>
public static class MethodBenchmark
{
    /// <summary>The name of the base model's row.</summary>
    public const string BaseRow = "base model";

    /// <summary>The report's file name in the output folder.</summary>
    public const string ReportFileName = "report.md";

    /// <summary>The chart's file name in the output folder (<see cref="MethodChart"/>).</summary>
    public const string ChartFileName = "chart.png";

    /// <summary>Runs the benchmark: every row once per seed (<see cref="BenchmarkOptions.Seeds"/>).</summary>
    /// <param name="options">What to run.</param>
    /// <param name="log">Receives progress lines.</param>
    /// <returns>The base model's summary, then one per method.</returns>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static IReadOnlyList<MethodSummary> Run(BenchmarkOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        log ??= _ => { };
        Directory.CreateDirectory(options.OutputDirectory);
        var rows = new List<List<MethodScore>> { new() };
        using (var baseModel = StableDiffusionModels.Load(options.BaseModel))
        {
            log($"the base model's VAE keeps the subject in {VaeKeepsSubject(baseModel, options.Spec)} of {options.Spec.Instances.Count} instance pictures (encode, decode, read back)");
            for (var round = 0; round < options.Seeds; round++)
            {
                rows[0].Add(Score(BaseRow, "the base model, no training", baseModel, null, options, round, 0, -1, 0, log));
            }
        }

        var data = Path.Combine(options.OutputDirectory, "instances");
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }

        var datasetConfig = ToyDatasetWriter.WriteInstances(data, options.Spec, batchSize: options.BatchSize);
        // Class pictures depend on the seed and their number only: made once, shared by every row that asks for them.
        var classImages = new Dictionary<(int Round, int Count), List<(SKBitmap Image, string Caption)>>();
        try
        {
            foreach (var method in options.Methods)
            {
                rows.Add([.. Enumerable.Range(0, options.Seeds).Select(round => RunMethod(method, datasetConfig, options, round, classImages, log))]);
            }
        }
        finally
        {
            foreach (var (image, _) in classImages.Values.SelectMany(list => list))
            {
                image.Dispose();
            }
        }

        return [.. rows.Select(MethodSummary.Of)];
    }

    /// <summary>The rows as a markdown table: each measure's mean over the seeds, ± its spread when there are several.</summary>
    /// <param name="rows">The summaries from <see cref="Run"/>.</param>
    public static string ToMarkdown(IReadOnlyList<MethodSummary> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new System.Text.StringBuilder()
            .AppendLine("| method | steps | subject fidelity: exact / shape + colours / pattern | prompt fidelity (bg / size / position) | prior preservation | class fidelity | class colour entropy (bits) | train time | peak memory | output size |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var summary in rows)
        {
            var (r, s) = (summary.Mean, summary.Spread);
            var several = summary.Rounds.Count > 1;
            string P(Func<MethodScore, double> pick) => BenchmarkFormat.Percent(pick(r), pick(s), several);
            string Q(double fraction) => BenchmarkFormat.Percent(fraction);
            var trained = r.Method != BaseRow;
            text.AppendLine(System.Globalization.CultureInfo.InvariantCulture,
                $"| {r.Method} | {(trained ? r.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture) : "–")} | {P(x => x.SubjectFidelity)} / {P(x => x.SubjectShapeAndColors)} / {P(x => x.SubjectPattern)} | {Q(r.PromptFidelity.Background)} / {Q(r.PromptFidelity.Size)} / {Q(r.PromptFidelity.Position)} | " +
                $"{P(x => x.PriorPreservation)} | {P(x => x.ClassFidelity)} | {r.ClassColorEntropy:F2} | {BenchmarkFormat.Seconds(r.TrainSeconds, trained)} | " +
                $"{BenchmarkFormat.Memory(r.PeakMemoryBytes)} | {BenchmarkFormat.OutputSize(r.OutputBytes, trained)} |");
        }

        return text.ToString();
    }

    /// <summary>The report (<see cref="ReportFileName"/>): a title, a header line with the run's settings (the thread count in use included), the table and the chart (<see cref="ChartFileName"/>).</summary>
    /// <param name="options">What was run.</param>
    /// <param name="table">The table from <see cref="ToMarkdown"/>.</param>
    /// <param name="elapsed">How long the whole benchmark took.</param>
    public static string Report(BenchmarkOptions options, string table, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(options);
        var spec = options.Spec;
        var pictures = spec.Evaluation.Count * spec.ImagesPerPrompt * options.Seeds;
        return $"# Concept benchmark: {spec.Subject.Name} ({spec.Identifier} {spec.ClassWord})\n\n" +
            $"Base model: {options.BaseModel}; spec: {spec.Source}; {options.Steps} steps per method unless a row sets its own (the steps column), batch {options.BatchSize}; {Threads(TorchThreads.Current)}; " +
            $"evaluation: {options.Sampler}, {options.SamplingSteps} steps, CFG {options.CfgScale}, {spec.ImagesPerPrompt} pictures per prompt; " +
            $"{options.Seeds} seed(s) per row (mean ± sample standard deviation over the seeds), {pictures} pictures per measure " +
            $"(one picture = {100.0 / pictures:F1} points); the whole table took {elapsed.TotalMinutes:F1} minutes.\n\n" +
            $"{table}\n![quality, file size and training time per method]({ChartFileName})\n";
    }

    private static string Threads(int count) => count == 1 ? "1 CPU thread" : $"{count} CPU threads";

    private static MethodScore RunMethod(BenchmarkMethod method, string datasetConfig, BenchmarkOptions options, int round,
        Dictionary<(int Round, int Count), List<(SKBitmap Image, string Caption)>> classImages, Action<string> log)
    {
        // The first seed's outputs keep the method's own folder name; later seeds get their own.
        var output = Path.Combine(options.OutputDirectory, round == 0 ? method.Name : $"{method.Name}-seed{round + 1}");
        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        var config = method.Configure(new TrainingConfig
        {
            PretrainedModel = options.BaseModel,
            OutputDir = output,
            OutputName = method.Name,
            DatasetConfig = datasetConfig,
            Resolution = options.Spec.ImageSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            TrainBatchSize = options.BatchSize,
            MaxTrainSteps = options.Steps,
            LrScheduler = "constant",
            CacheLatents = true,
            Seed = options.Spec.Seed + round,
        }, new BenchmarkSubject(options.Spec.Identifier, options.Spec.ClassWord));
        if (method.ClassImages > 0)
        {
            // kohya's form of prior preservation: class pictures from the base model as a regularisation subset
            // beside this method's own copy of the instance pictures.
            var dataset = ToyDatasetWriter.WriteInstances(Path.Combine(output, "dataset"), options.Spec, batchSize: options.BatchSize);
            var key = (round, method.ClassImages);
            if (!classImages.TryGetValue(key, out var pictures))
            {
                pictures = ClassImages(options, method.ClassImages, round);
                classImages[key] = pictures;
            }

            ToyDatasetWriter.AddRegularisation(dataset, options.Spec.ClassWord, pictures);
            config = config with { DatasetConfig = dataset };
        }

        var steps = config.MaxTrainSteps ?? options.Steps;
        log($"{method.Name}: training {steps} steps (seed {round + 1} of {options.Seeds})");
        var (_, file, seconds, peak, bytes) = BenchmarkTraining.Run(method.Name, config, options.BaseModel, log);
        if (TrainingMethods.Get(config.Method).Output.Apply is { } apply)
        {
            using var baseModel = StableDiffusionModels.Load(options.BaseModel);
            return Score(method.Name, method.Description, baseModel, request => apply(request, file), options, round, seconds, peak, bytes, log) with { Steps = steps };
        }

        using var tuned = StableDiffusionModels.Load(file);
        return Score(method.Name, method.Description, tuned, null, options, round, seconds, peak, bytes, log) with { Steps = steps };
    }

    /// <summary>How many instance pictures still read as the subject after the VAE's round trip: a ceiling for any method that keeps the VAE.</summary>
    private static int VaeKeepsSubject(StableDiffusionModel model, BenchmarkSpec spec) =>
        Pretraining.ToyVaeStage.ReadAfterRoundTrip(model.Vae, new ToyWorldGenerator(spec.ImageSize, spec.Seed), [.. spec.InstanceImages().Select(i => i.Scene)])
            .Count(r => ToyMetrics.ShowsSubject(r, spec.Subject));

    /// <summary>The base model's pictures for class prompts at seeded random placements, with those prompts as captions.</summary>
    private static List<(SKBitmap Image, string Caption)> ClassImages(BenchmarkOptions options, int count, int round)
    {
        var spec = options.Spec;
        var random = Training.Data.SeededRandom.For(spec.Seed + round, 0xC1A55);
        var colors = Enum.GetValues<ToyColor>();
        var items = new List<(SKBitmap, string)>();
        using var model = StableDiffusionModels.Load(options.BaseModel);
        using var pipeline = new StableDiffusionPipeline(model);
        for (var i = 0; i < count; i++)
        {
            var placement = new ToyPlacement(colors[random.NextInt(colors.Length)], (ToySize)random.NextInt(3), (ToyPosition)random.NextInt(9));
            var classColors = spec.ClassColors(placement);
            var prompt = spec.ClassPromptFor(placement, classColors[random.NextInt(classColors.Count)]).Text;
            using var result = pipeline.Generate(new GenerationRequest
            {
                Prompt = prompt,
                Sampler = options.Sampler,
                Steps = options.SamplingSteps,
                CfgScale = options.CfgScale,
                Seed = spec.Seed + 50_000 + (round * 1_000_000L) + i,
                Width = spec.ImageSize,
                Height = spec.ImageSize,
            });
            items.Add((result.Images[0].Image.Copy(), prompt));
        }

        return items;
    }

    private static MethodScore Score(string name, string description, StableDiffusionModel model, Func<GenerationRequest, GenerationRequest>? applyOutput, BenchmarkOptions options,
        int round, double seconds, long peak, long bytes, Action<string> log)
    {
        var result = SubjectEvaluation.Run(model, applyOutput, options, round, w => log($"  warning: {w}"));
        var grid = Path.Combine(options.OutputDirectory, round == 0 ? $"grid-{name.Replace(' ', '-')}.png" : $"grid-{name.Replace(' ', '-')}-seed{round + 1}.png");
        using (result.Grid)
        {
            PngWriter.Save(grid, result.Grid);
        }

        log($"{name} (seed {round + 1}): subject fidelity {result.SubjectFidelity:P0} (shape + colours {result.SubjectShapeAndColors:P0}, pattern {result.SubjectPattern:P0}), prompt fidelity {result.PromptFidelity.All:P0}, prior preservation {result.PriorPreservation:P0}, class fidelity {result.ClassFidelity:P0}; grid {grid}");
        return new MethodScore(name, description, result.SubjectFidelity, result.SubjectShapeAndColors, result.SubjectPattern, result.PromptFidelity, result.PriorPreservation, result.ClassFidelity,
            result.ClassColorEntropy, seconds, peak, bytes, grid);
    }
}
