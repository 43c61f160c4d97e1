using SdTune.Imaging;
using SdTune.Models;
using SdTune.Pipelines;
using SkiaSharp;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// Scores one model (optionally with a trained output applied to every request) on a benchmark spec: pictures for every identifier prompt
/// and every class prompt, read back by <see cref="ToyEvaluator"/>, and a labelled grid of them all.
/// </summary>
internal static class SubjectEvaluation
{
    public sealed record Result(double SubjectFidelity, double SubjectShapeAndColors, double SubjectPattern, ToyPromptFidelity PromptFidelity,
        double PriorPreservation, double ClassFidelity, double ClassColorEntropy, SKBitmap Grid);

    public static Result Run(StableDiffusionModel model, Func<GenerationRequest, GenerationRequest>? applyOutput, BenchmarkOptions options, int round, Action<string>? warn)
    {
        var spec = options.Spec;
        using var pipeline = new StableDiffusionPipeline(model);
        var evaluator = new ToyEvaluator(spec.ImageSize);
        var images = new List<SKBitmap>();
        var rows = new List<string>();
        try
        {
            var (subjectReadings, subjectPrompts) = Generate(pipeline, evaluator, spec.EvaluationPrompts(), 0, round, applyOutput, options, images, rows, warn);
            var (classReadings, classPrompts) = Generate(pipeline, evaluator, spec.ClassPrompts(), 1, round, applyOutput, options, images, rows, warn);
            var columns = Enumerable.Range(1, spec.ImagesPerPrompt).Select(i => $"#{i}").ToList();
            var grid = ImageGrid.CreateLabelled(images, columns, rows, warn: warn);
            var (shapeAndColors, pattern) = ToyMetrics.SubjectPartialFidelity(subjectReadings, spec.Subject);
            return new Result(
                ToyMetrics.SubjectFidelity(subjectReadings, spec.Subject),
                shapeAndColors,
                pattern,
                ToyMetrics.PromptFidelity(subjectReadings, [.. subjectPrompts.Select(p => p.Placement)]),
                ToyMetrics.PriorPreservation(classReadings, spec.Subject),
                ToyMetrics.ClassFidelity(classReadings, classPrompts, spec.Subject.Shape),
                ToyMetrics.ColorEntropy(classReadings),
                grid);
        }
        finally
        {
            images.ForEach(i => i.Dispose());
        }
    }

    private static (List<ToyReading> Readings, List<BenchmarkPrompt> Prompts) Generate(StableDiffusionPipeline pipeline, ToyEvaluator evaluator,
        IReadOnlyList<BenchmarkPrompt> prompts, int set, int round, Func<GenerationRequest, GenerationRequest>? applyOutput, BenchmarkOptions options, List<SKBitmap> images, List<string> rows, Action<string>? warn)
    {
        var spec = options.Spec;
        var readings = new List<ToyReading>();
        var pictured = new List<BenchmarkPrompt>();
        for (var i = 0; i < prompts.Count; i++)
        {
            var request = new GenerationRequest
            {
                Prompt = prompts[i].Text,
                Sampler = options.Sampler,
                Steps = options.SamplingSteps,
                CfgScale = options.CfgScale,
                // The same seeds for every method, different for each prompt, each prompt set and each benchmark seed.
                Seed = spec.Seed + (1_000_000L * round) + (1000L * set) + (spec.ImagesPerPrompt * (long)i),
                Width = spec.ImageSize,
                Height = spec.ImageSize,
                BatchSize = spec.ImagesPerPrompt,
            };
            request = applyOutput?.Invoke(request) ?? request;
            using var result = pipeline.Generate(request);
            foreach (var w in result.Warnings)
            {
                warn?.Invoke(w);
            }

            foreach (var image in result.Images)
            {
                readings.Add(evaluator.Read(image.Image));
                pictured.Add(prompts[i]);
                images.Add(image.Image.Copy());
            }

            rows.Add(prompts[i].Text);
        }

        return (readings, pictured);
    }
}
