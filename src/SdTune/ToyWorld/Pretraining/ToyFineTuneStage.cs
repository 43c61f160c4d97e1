using System.Diagnostics;
using System.Globalization;
using SdTune.Models;
using SdTune.Training;
using SdTune.Training.Methods;

namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// Stage 2: the UNet and the text encoder together, trained by the one <see cref="Trainer"/> with the
/// <see cref="FineTuneMethod"/> on the training pictures written as a kohya dataset (PNG + caption files in a work
/// folder, removed afterwards). The recipe: epsilon prediction, offset noise, min-SNR γ = 5, AdamW with weight decay
/// 0.01, gradient clipping at 1, linear warm-up then cosine decay to a tenth; every caption file holds all phrasings of its scene
/// (<c>enable_wildcard</c> picks one per sample) and <c>caption_dropout_rate</c> empties some. The latents are the
/// frozen VAE's posterior means (<see cref="ToyLatentSource"/>). A time budget stops the run after the current step.
/// </summary>
internal static class ToyFineTuneStage
{
    public static ToyStageResult Train(StableDiffusionModel model, ToyWorldGenerator world, ToyTrainingSet data, ToyPretrainingOptions options, double? budgetSeconds, Action<string> log,
        Action<int>? evaluate = null)
    {
        var work = Directory.CreateTempSubdirectory("sdtune-pretraining-");
        try
        {
            var datasetToml = ToyDatasetWriter.WritePretrainingPhrasings(work.FullName, world, (int)data.Count, options.DiffusionBatch, options.CaptionDropout, options.PatternedShare);
            var imageFolder = Directory.GetDirectories(work.FullName).Single();
            var rows = Directory.GetFiles(imageFolder, "*.png").ToDictionary(
                Path.GetFullPath, p => long.Parse(Path.GetFileNameWithoutExtension(p), NumberStyles.None, CultureInfo.InvariantCulture), StringComparer.Ordinal);
            using var latents = new ToyLatentSource(model.Vae, data.Images, rows);
            var config = Config(options, datasetToml, Path.Combine(work.FullName, "out"));
            var method = new FineTuneMethod();
            var tracker = new ToyLossTracker();
            var clock = Stopwatch.StartNew();
            using var budget = new CancellationTokenSource();
            void AfterStep(TrainingProgress p)
            {
                tracker.Add(p.Step, p.Loss);
                if (p.Step % options.LogEvery == 0)
                {
                    log($"unet+text step {p.Step}: loss {tracker.Last:F4}, lr {p.LearningRates["unet"]:G3}, {clock.Elapsed.TotalSeconds:F0} s");
                }

                if (evaluate is not null && options.EvaluateEvery is { } every && p.Step % every == 0)
                {
                    method.SetTrainingMode(false);
                    evaluate((int)p.Step);
                    method.SetTrainingMode(true);
                }

                if (budgetSeconds is { } b && clock.Elapsed.TotalSeconds >= b)
                {
                    budget.Cancel();
                }
            }

            var services = new TrainerServices
            {
                Model = model,
                Method = method,
                LatentSource = (_, _) => latents,
                Progress = new TrainingProgressCallback(AfterStep),
                Log = line => log("  " + line),
            };
            var result = new Trainer(config, services).Run(budget.Token);
            model.Unet.eval();
            model.TextEncoder.eval();
            var name = options.PatternedShare > 0 ? string.Create(CultureInfo.InvariantCulture, $"unet+text ({options.PatternedShare * 100:0.#}% patterned)") : "unet+text";
            return new ToyStageResult(name, (int)result.Steps, clock.Elapsed.TotalSeconds, tracker.First, tracker.Last);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>The pretraining recipe as a fine-tune configuration (the model itself comes from the caller).</summary>
    internal static TrainingConfig Config(ToyPretrainingOptions options, string datasetToml, string outputDir) => new TrainingConfig
    {
        Method = FineTuneMethod.Definition.Name,
        PretrainedModel = "toy base model (in memory)",
        DatasetConfig = datasetToml,
        OutputDir = outputDir,
        OutputName = "toy-base",
        Resolution = ToyBaseModel.ImageSize.ToString(CultureInfo.InvariantCulture),
        TrainBatchSize = options.DiffusionBatch,
        MaxTrainSteps = options.DiffusionSteps,
        LearningRate = options.UnetLearningRate,
        UnetLr = options.UnetLearningRate,
        TextEncoderLr = options.TextEncoderLearningRate,
        OptimizerType = "AdamW",
        OptimizerArgs = ["weight_decay=0.01"],
        LrScheduler = "cosine_with_min_lr",
        LrSchedulerMinLrRatio = 0.1,
        LrWarmupSteps = options.WarmupSteps.ToString(CultureInfo.InvariantCulture),
        NoiseOffset = options.NoiseOffset,
        MinSnrGamma = 5,
        MaxGradNorm = 1,
        Seed = options.Seed,
    }.With(FineTuneMethod.TrainTextEncoder, true);
}
