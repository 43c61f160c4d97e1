using SdTune.Models;
using SdTune.Pipelines;
using SdTune.Pipelines.Control;
using SkiaSharp;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// Scores one row of the control benchmark: pictures of every held-out case from its full caption (position
/// included), with the row's control and the case's condition image or without a control, read back by
/// <see cref="ToyEvaluator"/> and compared with the case's scene.
/// </summary>
internal static class ControlEvaluation
{
    /// <summary>The shares of pictures matching the case's position, shape, colour and background, and each case's first picture (owned by the caller).</summary>
    public sealed record Result(double Position, double Shape, double Color, double Background, IReadOnlyList<SKBitmap> FirstPictures);

    /// <summary>Generates and reads the pictures of one row and seed.</summary>
    /// <param name="model">The base model.</param>
    /// <param name="control">The trained control (type and path), or null for the row without one.</param>
    /// <param name="cases">The held-out scenes.</param>
    /// <param name="conditions">Each scene's condition image.</param>
    /// <param name="options">Sampler, steps, guidance, pictures per case, seed.</param>
    /// <param name="round">Which benchmark seed (from 0): the pictures' seeds depend on it and on the case, not on the row.</param>
    /// <param name="warn">Receives the pipeline's warnings.</param>
    public static Result Run(StableDiffusionModel model, (ControlType Type, string Path)? control, IReadOnlyList<ToyScene> cases, IReadOnlyList<SKBitmap> conditions,
        ControlBenchmarkOptions options, int round, Action<string> warn)
    {
        using var pipeline = new StableDiffusionPipeline(model);
        var evaluator = new ToyEvaluator(options.ImageSize);
        var matches = new List<ToySceneMatch>();
        var first = new List<SKBitmap>();
        try
        {
            for (var i = 0; i < cases.Count; i++)
            {
                var request = new GenerationRequest
                {
                    Prompt = cases[i].ToCaption(),
                    Sampler = options.Sampler,
                    Steps = options.SamplingSteps,
                    CfgScale = options.CfgScale,
                    Seed = options.Seed + (1_000_000L * round) + (options.ImagesPerCase * (long)i),
                    Width = options.ImageSize,
                    Height = options.ImageSize,
                    BatchSize = options.ImagesPerCase,
                    Controls = control is var (type, path) ? [new ControlRequest { Type = type, ModelPath = path, Image = conditions[i] }] : [],
                };
                using var result = pipeline.Generate(request);
                foreach (var w in result.Warnings)
                {
                    warn(w);
                }

                matches.AddRange(result.Images.Select(image => evaluator.Read(image.Image).Matches(cases[i])));
                first.Add(result.Images[0].Image.Copy());
            }
        }
        catch
        {
            first.ForEach(b => b.Dispose());
            throw;
        }

        double Share(Func<ToySceneMatch, bool> pick) => matches.Count(pick) / (double)matches.Count;
        return new Result(Share(m => m.Position), Share(m => m.Shape), Share(m => m.Color), Share(m => m.Background), first);
    }
}
