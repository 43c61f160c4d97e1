using System.Globalization;
using SdTune.IO;
using SdTune.Models;
using SdTune.Runtime;
using SdTune.Schedulers;
using SdTune.Training.Caching;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training.Loop;

/// <summary>
/// Everything a training session works with, built once, before the first step, by <see cref="Build"/>: the model
/// frozen and the method prepared on it, the noise schedule, the batches, the latent source, the optimizer with its
/// learning-rate schedule, EMA and loss scaling, the caption encoder and the run's seeded generator.
/// </summary>
internal sealed record TrainingParts : IDisposable
{
    public required ResolvedTrainingConfig Resolved { get; init; }

    public required StableDiffusionModel Model { get; init; }

    public required ITrainingMethod Method { get; init; }

    public required string OutputDir { get; init; }

    public required PredictionType Prediction { get; init; }

    public required NoiseSchedule Schedule { get; init; }

    public required TrainingData Data { get; init; }

    public required ILatentSource Latents { get; init; }

    /// <summary>The latent cache behind <see cref="Latents"/> with <c>cache_latents</c>; disposed with the parts.</summary>
    public LatentCache? LatentCache { get; init; }

    public required CaptionEncoder Captions { get; init; }

    public required TrainingOptimizer Optimizer { get; init; }

    public required LearningRateSchedule LrSchedule { get; init; }

    public required IReadOnlyList<Parameter> Trainable { get; init; }

    public required EmaWeights? Ema { get; init; }

    public required DynamicLossScaler? Scaler { get; init; }

    public required Generator Generator { get; init; }

    public required long TotalSteps { get; init; }

    public required int TotalEpochs { get; init; }

    public TrainingConfig Config => Resolved.Config;

    /// <summary>Prepares a run: sweeps the output folder, freezes the model, prepares the method and builds the rest.</summary>
    /// <exception cref="TrainingConfigException">A configuration problem found while setting up.</exception>
    public static TrainingParts Build(ResolvedTrainingConfig resolved, TrainerServices services, StableDiffusionModel model, ITrainingMethod method, TrainingJournal journal)
    {
        var config = resolved.Config;
        var outputDir = Path.GetFullPath(config.OutputDir!);
        foreach (var action in StagingPaths.SweepStale(outputDir, depth: 1))
        {
            journal.Note($"output_dir: {action}");
        }

        var prediction = config.VParameterization is { } v ? (v ? PredictionType.VPrediction : PredictionType.Epsilon) : model.PredictionType;
        var scheduleConfig = NoiseScheduleConfig.FromJson(model.SchedulerConfig.ToJsonString(), "the model's scheduler config") with { PredictionType = prediction };
        var weightType = WeightDType(config.MixedPrecision);
        Freeze(model, config);
        var reader = services.ImageReader ?? new ImageFileReader();
        var context = new TrainingContext
        {
            Config = config,
            Model = model,
            WeightDType = weightType,
            PredictionType = prediction,
            ImageGenerator = services.ImageGenerator,
            ImageReader = reader,
            Warnings = journal.Warnings,
        };

        // Seeded before the method creates its weights, so fresh networks start the same in every run.
        torch.random.manual_seed(config.Seed);
        var groups = method.Prepare(context);
        method.SetTrainingMode(true);
        if (config.GradientCheckpointing)
        {
            // Checkpointing acts on modules in training mode: a frozen base with adapters (LoRA) is put in training
            // mode for it, as sd-scripts does (no dropout in SD's UNet and CLIP).
            model.Unet.train();
            if (method.TrainsTextEncoder)
            {
                model.TextEncoder.train();
                model.TextEncoder2?.train();
            }
        }

        var dataWarnings = new List<string>(resolved.Warnings);
        var data = TrainingData.Build(resolved, reader, dataWarnings);
        dataWarnings.ForEach(journal.Warn);
        var cache = services.LatentSource is null && config.CacheLatents
            ? CreateLatentCache(model, reader, config.CacheLatentsToDisk ? Path.Combine(outputDir, "latent-cache") : null, journal)
            : null;
        var latents = services.LatentSource is { } factory ? factory(model, reader)
            : cache is not null ? new CachedLatentSource(cache, model.Vae.Config.ScalingFactor, model.Vae.Config.ShiftFactor, model.Unet.parameters().First().device)
            : (ILatentSource)new VaeLatentSource(model.Vae, reader);

        var stepsPerEpoch = (data.BatchesPerEpoch + config.GradientAccumulationSteps - 1) / config.GradientAccumulationSteps;
        var totalSteps = config.MaxTrainSteps ?? ((long)config.MaxTrainEpochs!.Value * stepsPerEpoch);
        var optimizer = OptimizerFactory.Create(config.OptimizerType, groups, OptimizerArguments.Create(config.OptimizerType, config.OptimizerArgs));
        List<Parameter> trainable = [.. groups.SelectMany(g => g.Parameters)];
        return new TrainingParts
        {
            Resolved = resolved,
            Model = model,
            Method = method,
            OutputDir = outputDir,
            Prediction = prediction,
            Schedule = new NoiseSchedule(scheduleConfig),
            Data = data,
            Latents = latents,
            LatentCache = cache,
            Captions = new CaptionEncoder(model, method, config),
            Optimizer = optimizer,
            LrSchedule = CreateLrSchedule(config, totalSteps),
            Trainable = trainable,
            Ema = config.UseEma ? new EmaWeights(trainable, new EmaOptions { Decay = config.EmaDecay }) : null,
            Scaler = config.MixedPrecision == MixedPrecision.Float16 ? new DynamicLossScaler() : null,
            Generator = new Generator(unchecked((ulong)config.Seed)),
            TotalSteps = totalSteps,
            TotalEpochs = (int)((totalSteps + stepsPerEpoch - 1) / stepsPerEpoch),
        };
    }

    public void Dispose()
    {
        Ema?.Dispose();
        Optimizer.Dispose();
        LatentCache?.Dispose();
        Captions.Dispose();
        Generator.Dispose();
    }

    private static ScalarType WeightDType(MixedPrecision precision) => precision switch
    {
        MixedPrecision.BFloat16 => ScalarType.BFloat16,
        MixedPrecision.Float16 => ScalarType.Float16,
        _ => ScalarType.Float32,
    };

    /// <summary>Every weight frozen, in evaluation mode; the VAE in the run's weight type; checkpointing as configured.</summary>
    private static void Freeze(StableDiffusionModel model, TrainingConfig config)
    {
        foreach (var module in model.Modules)
        {
            module.eval();
            foreach (var p in module.parameters())
            {
                p.requires_grad = false;
            }
        }

        if (config.ReleaseFreedMemory == true)
        {
            NativeAllocator.ReleaseFreedMemoryPromptly();
        }

        model.Vae.to(WeightDType(config.MixedPrecision));
        model.Unet.GradientCheckpointing = config.GradientCheckpointing;
        model.TextEncoder.GradientCheckpointing = config.GradientCheckpointing;
        if (model.TextEncoder2 is not null)
        {
            model.TextEncoder2.GradientCheckpointing = config.GradientCheckpointing;
        }
    }

    private static LearningRateSchedule CreateLrSchedule(TrainingConfig config, long totalSteps)
    {
        try
        {
            return LearningRateSchedule.Create(config.LrScheduler, totalSteps, WarmupLength.Parse(config.LrWarmupSteps),
                config.LrSchedulerNumCycles, config.LrSchedulerPower, initialLearningRate: config.LearningRate, minLrRatio: config.LrSchedulerMinLrRatio);
        }
        catch (ArgumentException e)
        {
            throw new TrainingConfigException("lr_scheduler", e.Message, e);
        }
    }

    /// <summary>
    /// The latent cache for <c>cache_latents</c>: in memory, or on disk in <paramref name="folder"/> with
    /// <c>cache_latents_to_disk</c> (kept across runs; an entry is only used when image, crop, flip and VAE match).
    /// </summary>
    private static LatentCache CreateLatentCache(StableDiffusionModel model, IImageReader reader, string? folder, TrainingJournal journal)
    {
        var vae = model.Vae;
        var first = vae.parameters().First();
        var options = new LatentCacheOptions
        {
            VaeFingerprint = ModelFingerprint.Compute(vae, vae.Config.ToJson()),
            Folder = folder,
            Warn = journal.Warn,
        };
        return new LatentCache(options, images => vae.Encode(images.to(first.dtype, first.device)), reader);
    }
}
