using SdTune.Models;
using SdTune.Pipelines;

namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// Measures a toy base model: generates one picture for each of N scenes' full captions ("a large red star on a
/// blue background, top left") with fixed seeds and reads them back with <see cref="ToyEvaluator"/>. Held-out prompts
/// use attribute triples the model never saw; train prompts use seen triples (in new sizes, positions and seeds). With
/// <see cref="ToyEvaluationOptions.Patterns"/>, two more sets prompt patterned shapes ("a red and yellow striped heart"):
/// shape × pattern pairs pretraining showed, and the pairs it held out (<see cref="ToyPatternSplit"/>).
/// </summary>
public static class ToyBaseEvaluation
{
    /// <summary>Scores the model on each prompt set.</summary>
    /// <param name="model">A model making <see cref="ToyBaseModel.ImageSize"/>-pixel pictures.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="log">Receives one line per set.</param>
    /// <returns>Held-out, train, then (with patterns) held-out patterns and train patterns.</returns>
    public static IReadOnlyList<ToyAccuracy> Evaluate(StableDiffusionModel model, ToyEvaluationOptions? options = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new ToyEvaluationOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Prompts, 1);
        using var pipeline = new StableDiffusionPipeline(model);
        var evaluator = new ToyEvaluator(ToyBaseModel.ImageSize);
        var generator = new ToyWorldGenerator(ToyBaseModel.ImageSize, options.Seed);
        var sets = new List<(string Name, Func<int, ToyScene> Scene)>
        {
            ("held-out", i => generator.Scene(i, heldOut: true)),
            ("train", i => generator.Scene(i)),
        };
        if (options.Patterns)
        {
            sets.Add(("held-out patterns", i => generator.HeldOutPatternScene(i)));
            sets.Add(("train patterns", i => generator.PretrainingScene(i, patternedShare: 1)));
        }

        var results = new List<ToyAccuracy>();
        foreach (var (name, sceneAt) in sets)
        {
            var matches = new List<ToySceneMatch>();
            for (var i = 0; i < options.Prompts; i++)
            {
                var scene = sceneAt(i);
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

            var accuracy = ToyAccuracy.Of(name, matches);
            log?.Invoke(accuracy.ToString());
            results.Add(accuracy);
        }

        return results;
    }
}
