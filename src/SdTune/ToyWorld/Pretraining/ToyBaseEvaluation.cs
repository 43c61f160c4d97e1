using SdTune.Models;
using SdTune.Pipelines;

namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// Measures a toy base model: generates one picture for each of N scenes' full captions ("a large red star on a
/// blue background, top left") with fixed seeds and reads them back with <see cref="ToyEvaluator"/>. Held-out prompts
/// use attribute triples the model never saw; train prompts use seen triples (in new sizes, positions and seeds).
/// </summary>
public static class ToyBaseEvaluation
{
    /// <summary>Scores the model on held-out and on train-split prompts.</summary>
    /// <param name="model">A model making <see cref="ToyBaseModel.ImageSize"/>-pixel pictures.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="log">Receives one line per split.</param>
    /// <returns>Held-out first, then train.</returns>
    public static IReadOnlyList<ToyAccuracy> Evaluate(StableDiffusionModel model, ToyEvaluationOptions? options = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new ToyEvaluationOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Prompts, 1);
        using var pipeline = new StableDiffusionPipeline(model);
        var evaluator = new ToyEvaluator(ToyBaseModel.ImageSize);
        var generator = new ToyWorldGenerator(ToyBaseModel.ImageSize, options.Seed);
        var results = new List<ToyAccuracy>();
        foreach (var heldOut in new[] { true, false })
        {
            var matches = new List<ToySceneMatch>();
            for (var i = 0; i < options.Prompts; i++)
            {
                var scene = generator.Scene(i, heldOut);
                var request = new GenerationRequest
                {
                    Prompt = scene.ToCaption(ToyCaptionStyle.Full),
                    Sampler = options.Sampler,
                    Steps = options.Steps,
                    CfgScale = options.CfgScale,
                    Seed = options.Seed + i,
                    Width = ToyBaseModel.ImageSize,
                    Height = ToyBaseModel.ImageSize,
                };
                using var result = pipeline.Generate(request);
                matches.Add(evaluator.Read(result.Images[0].Image).Matches(scene));
            }

            var accuracy = ToyAccuracy.Of(heldOut ? "held-out" : "train", matches);
            log?.Invoke(accuracy.ToString());
            results.Add(accuracy);
        }

        return results;
    }
}
