using SdTune.Options;

namespace SdTune.Training;

/// <summary>How a <see cref="TrainingConfig"/> key's value is written in TOML and held in the record.</summary>
internal enum TrainingConfigKind
{
    Text,
    Integer,
    Long,
    Real,
    Flag,
    TextList,
    Precision,
}

/// <summary>
/// One key of <see cref="TrainingConfig"/>: its TOML name and type, whether it may be unset, whether it is a path
/// (resolved against the file's folder), the numeric range it accepts (checked in the precision the value is used in),
/// and when it does not apply to a run (so the resolved configuration leaves it out).
/// </summary>
internal sealed record TrainingConfigKey(
    string Name,
    TrainingConfigKind Kind,
    bool Nullable,
    bool IsPath,
    Func<TrainingConfig, object?> Get,
    Func<TrainingConfig, object?, TrainingConfig> Set)
{
    /// <summary>The values a numeric key accepts; null for keys that are not numbers.</summary>
    public NumericRange? Range { get; init; }

    /// <summary>Why the key does not apply to a configuration ("applies to dreambooth"), or null when it does.</summary>
    public Func<TrainingConfig, string?> NotUsed { get; init; } = _ => null;
}

/// <summary>The key table of <see cref="TrainingConfig"/>: reading, overrides, validation and writing share it.</summary>
internal static class TrainingConfigKeys
{
    /// <summary>
    /// The training resolution's sides: 8 (one latent pixel at the VAE's factor of 8) to 8192, eight times SDXL's 1024,
    /// far above what any Stable Diffusion model was trained at.
    /// </summary>
    public static readonly NumericRange ResolutionSide = new(NumberType.Int32, 8, 8192);

    /// <summary>
    /// Images per batch and micro-batches per step: at most 65,536, far above any real run, so that sums with
    /// image counts cannot overflow.
    /// </summary>
    public static readonly NumericRange BatchCount = NumericRange.Count(65536);

    /// <summary>
    /// LoRA ranks (network_dim, conv_dim): at most 100,000, above the 10,000-and-more that LyCORIS' full-matrix LoKr
    /// convention uses; no layer of a Stable Diffusion model is wider than 10,240.
    /// </summary>
    public static readonly NumericRange Rank = NumericRange.Count(100_000);

    /// <summary>stop_text_encoder_training: a fraction of the run below 1, or a step count up to max_train_steps' limit.</summary>
    public static readonly NumericRange StopTextEncoder = new(NumberType.Float64, 0, int.MaxValue, MinExclusive: true);

    private static readonly Func<TrainingConfig, string?> Lora = c => c.Method == "lora" ? null : "applies to lora";
    private static readonly Func<TrainingConfig, string?> DreamBooth = c => c.Method == "dreambooth" ? null : "applies to dreambooth";
    private static readonly Func<TrainingConfig, string?> InstanceLayout = c => c.InstanceDataDir is not null ? null : "applies to instance_data_dir datasets";
    private static readonly Func<TrainingConfig, string?> PriorPreservation = c => c.InstanceDataDir is not null && c.WithPriorPreservation ? null : "needs with_prior_preservation";

    public static readonly TrainingConfigKey[] All =
    [
        new("method", TrainingConfigKind.Text, false, false, c => c.Method, (c, v) => c with { Method = (string)v! }),
        new("pretrained_model", TrainingConfigKind.Text, true, true, c => c.PretrainedModel, (c, v) => c with { PretrainedModel = (string?)v }),
        new("output_dir", TrainingConfigKind.Text, true, true, c => c.OutputDir, (c, v) => c with { OutputDir = (string?)v }),
        new("output_name", TrainingConfigKind.Text, false, false, c => c.OutputName, (c, v) => c with { OutputName = (string)v! }),
        new("dataset_config", TrainingConfigKind.Text, true, true, c => c.DatasetConfig, (c, v) => c with { DatasetConfig = (string?)v }),
        new("train_data_dir", TrainingConfigKind.Text, true, true, c => c.TrainDataDir, (c, v) => c with { TrainDataDir = (string?)v }),
        new("reg_data_dir", TrainingConfigKind.Text, true, true, c => c.RegDataDir, (c, v) => c with { RegDataDir = (string?)v }),
        new("instance_data_dir", TrainingConfigKind.Text, true, true, c => c.InstanceDataDir, (c, v) => c with { InstanceDataDir = (string?)v }),
        new("instance_prompt", TrainingConfigKind.Text, true, false, c => c.InstancePrompt, (c, v) => c with { InstancePrompt = (string?)v }) { NotUsed = InstanceLayout },
        new("class_data_dir", TrainingConfigKind.Text, true, true, c => c.ClassDataDir, (c, v) => c with { ClassDataDir = (string?)v }) { NotUsed = PriorPreservation },
        new("class_prompt", TrainingConfigKind.Text, true, false, c => c.ClassPrompt, (c, v) => c with { ClassPrompt = (string?)v }) { NotUsed = PriorPreservation },
        new("with_prior_preservation", TrainingConfigKind.Flag, false, false, c => c.WithPriorPreservation, (c, v) => c with { WithPriorPreservation = (bool)v! }) { NotUsed = InstanceLayout },
        new("num_class_images", TrainingConfigKind.Integer, false, false, c => c.NumClassImages, (c, v) => c with { NumClassImages = (int)v! }) { Range = NumericRange.Count(), NotUsed = PriorPreservation },
        new("resolution", TrainingConfigKind.Text, true, false, c => c.Resolution, (c, v) => c with { Resolution = (string?)v }),
        new("train_batch_size", TrainingConfigKind.Integer, false, false, c => c.TrainBatchSize, (c, v) => c with { TrainBatchSize = (int)v! }) { Range = BatchCount },
        new("center_crop", TrainingConfigKind.Flag, false, false, c => c.CenterCrop, (c, v) => c with { CenterCrop = (bool)v! }) { NotUsed = InstanceLayout },
        new("caption_extension", TrainingConfigKind.Text, false, false, c => c.CaptionExtension, (c, v) => c with { CaptionExtension = (string)v! })
        {
            NotUsed = c => c.InstanceDataDir is null ? null : "instance_data_dir datasets are captioned by instance_prompt and class_prompt",
        },
        new("network_dim", TrainingConfigKind.Integer, false, false, c => c.NetworkDim, (c, v) => c with { NetworkDim = (int)v! }) { Range = Rank, NotUsed = Lora },
        new("network_alpha", TrainingConfigKind.Real, false, false, c => c.NetworkAlpha, (c, v) => c with { NetworkAlpha = (double)v! }) { Range = NumericRange.PositiveFloat32, NotUsed = Lora },
        new("network_dropout", TrainingConfigKind.Real, false, false, c => c.NetworkDropout, (c, v) => c with { NetworkDropout = (double)v! }) { Range = NumericRange.DropoutRate, NotUsed = Lora },
        new("network_args", TrainingConfigKind.TextList, false, false, c => c.NetworkArgs, (c, v) => c with { NetworkArgs = (IReadOnlyList<string>)v! }) { NotUsed = Lora },
        new("network_weights", TrainingConfigKind.Text, true, true, c => c.NetworkWeights, (c, v) => c with { NetworkWeights = (string?)v }) { NotUsed = Lora },
        new("network_train_unet_only", TrainingConfigKind.Flag, false, false, c => c.NetworkTrainUnetOnly, (c, v) => c with { NetworkTrainUnetOnly = (bool)v! }) { NotUsed = Lora },
        new("network_train_text_encoder_only", TrainingConfigKind.Flag, false, false, c => c.NetworkTrainTextEncoderOnly, (c, v) => c with { NetworkTrainTextEncoderOnly = (bool)v! }) { NotUsed = Lora },
        new("learning_rate", TrainingConfigKind.Real, false, false, c => c.LearningRate, (c, v) => c with { LearningRate = (double)v! }) { Range = NumericRange.NonNegativeFloat32 },
        new("unet_lr", TrainingConfigKind.Real, true, false, c => c.UnetLr, (c, v) => c with { UnetLr = (double?)v })
        {
            Range = NumericRange.NonNegativeFloat32,
            NotUsed = c => c.Method == "lora" && c.NetworkTrainTextEncoderOnly ? "network_train_text_encoder_only trains no UNet module" : null,
        },
        new("text_encoder_lr", TrainingConfigKind.Real, true, false, c => c.TextEncoderLr, (c, v) => c with { TextEncoderLr = (double?)v })
        {
            Range = NumericRange.NonNegativeFloat32,
            NotUsed = c => TrainsTextEncoder(c) ? null : "the text encoder is not trained",
        },
        new("optimizer_type", TrainingConfigKind.Text, false, false, c => c.OptimizerType, (c, v) => c with { OptimizerType = (string)v! }),
        new("optimizer_args", TrainingConfigKind.TextList, false, false, c => c.OptimizerArgs, (c, v) => c with { OptimizerArgs = (IReadOnlyList<string>)v! }),
        new("lr_scheduler", TrainingConfigKind.Text, false, false, c => c.LrScheduler, (c, v) => c with { LrScheduler = (string)v! }),
        new("lr_warmup_steps", TrainingConfigKind.Text, false, false, c => c.LrWarmupSteps, (c, v) => c with { LrWarmupSteps = (string)v! })
        {
            NotUsed = c => Schedule(c) == "constant" ? "the constant schedule has no warm-up (use constant_with_warmup)" : null,
        },
        new("lr_scheduler_num_cycles", TrainingConfigKind.Real, true, false, c => c.LrSchedulerNumCycles, (c, v) => c with { LrSchedulerNumCycles = (double?)v })
        {
            Range = NumericRange.PositiveFloat64,
            NotUsed = c => Schedule(c) is "cosine" or "cosine_with_restarts" ? null : "applies to the cosine schedules",
        },
        new("lr_scheduler_power", TrainingConfigKind.Real, false, false, c => c.LrSchedulerPower, (c, v) => c with { LrSchedulerPower = (double)v! })
        {
            Range = NumericRange.PositiveFloat64,
            NotUsed = c => Schedule(c) == "polynomial" ? null : "applies to the polynomial schedule",
        },
        new("max_train_steps", TrainingConfigKind.Integer, true, false, c => c.MaxTrainSteps, (c, v) => c with { MaxTrainSteps = (int?)v }) { Range = NumericRange.Count() },
        new("max_train_epochs", TrainingConfigKind.Integer, true, false, c => c.MaxTrainEpochs, (c, v) => c with { MaxTrainEpochs = (int?)v })
        {
            Range = NumericRange.Count(),
            NotUsed = c => c.MaxTrainSteps is null ? null : "max_train_steps takes precedence",
        },
        new("gradient_accumulation_steps", TrainingConfigKind.Integer, false, false, c => c.GradientAccumulationSteps, (c, v) => c with { GradientAccumulationSteps = (int)v! }) { Range = BatchCount },
        new("max_grad_norm", TrainingConfigKind.Real, false, false, c => c.MaxGradNorm, (c, v) => c with { MaxGradNorm = (double)v! }) { Range = NumericRange.NonNegativeFloat32 },
        new("mixed_precision", TrainingConfigKind.Precision, false, false, c => c.MixedPrecision, (c, v) => c with { MixedPrecision = (MixedPrecision)v! }),
        new("save_precision", TrainingConfigKind.Text, true, false, c => c.SavePrecision, (c, v) => c with { SavePrecision = (string?)v }),
        new("seed", TrainingConfigKind.Long, false, false, c => c.Seed, (c, v) => c with { Seed = (long)v! }),
        new("noise_offset", TrainingConfigKind.Real, false, false, c => c.NoiseOffset, (c, v) => c with { NoiseOffset = (double)v! }) { Range = NumericRange.NonNegativeFloat32 },
        new("min_snr_gamma", TrainingConfigKind.Real, true, false, c => c.MinSnrGamma, (c, v) => c with { MinSnrGamma = (double?)v }) { Range = NumericRange.PositiveFloat32 },
        new("v_parameterization", TrainingConfigKind.Flag, true, false, c => c.VParameterization, (c, v) => c with { VParameterization = (bool?)v }),
        new("prior_loss_weight", TrainingConfigKind.Real, false, false, c => c.PriorLossWeight, (c, v) => c with { PriorLossWeight = (double)v! })
        {
            Range = NumericRange.NonNegativeFloat32,
            NotUsed = c => c.InstanceDataDir is not null ? PriorPreservation(c) : c.TrainDataDir is not null && c.RegDataDir is null ? "there is no reg_data_dir" : null,
        },
        new("clip_skip", TrainingConfigKind.Integer, true, false, c => c.ClipSkip, (c, v) => c with { ClipSkip = (int?)v }) { Range = NumericRange.Count() },
        new("save_every_n_steps", TrainingConfigKind.Integer, true, false, c => c.SaveEveryNSteps, (c, v) => c with { SaveEveryNSteps = (int?)v }) { Range = NumericRange.Count() },
        new("save_every_n_epochs", TrainingConfigKind.Integer, true, false, c => c.SaveEveryNEpochs, (c, v) => c with { SaveEveryNEpochs = (int?)v }) { Range = NumericRange.Count() },
        new("save_state", TrainingConfigKind.Flag, false, false, c => c.SaveState, (c, v) => c with { SaveState = (bool)v! }),
        new("resume", TrainingConfigKind.Text, true, true, c => c.Resume, (c, v) => c with { Resume = (string?)v }),
        new("sample_every_n_steps", TrainingConfigKind.Integer, true, false, c => c.SampleEveryNSteps, (c, v) => c with { SampleEveryNSteps = (int?)v })
        {
            Range = NumericRange.Count(),
            NotUsed = c => c.SampleEveryNEpochs is null ? null : "sample_every_n_epochs takes precedence",
        },
        new("sample_every_n_epochs", TrainingConfigKind.Integer, true, false, c => c.SampleEveryNEpochs, (c, v) => c with { SampleEveryNEpochs = (int?)v }) { Range = NumericRange.Count() },
        new("sample_prompts", TrainingConfigKind.Text, true, true, c => c.SamplePrompts, (c, v) => c with { SamplePrompts = (string?)v })
        {
            NotUsed = c => c.SampleEveryNSteps is null && c.SampleEveryNEpochs is null ? "no sample_every_n_steps or sample_every_n_epochs" : null,
        },
        new("logging_dir", TrainingConfigKind.Text, true, true, c => c.LoggingDir, (c, v) => c with { LoggingDir = (string?)v }),
        new("cache_latents", TrainingConfigKind.Flag, false, false, c => c.CacheLatents, (c, v) => c with { CacheLatents = (bool)v! }),
        new("cache_text_encoder_outputs", TrainingConfigKind.Flag, false, false, c => c.CacheTextEncoderOutputs, (c, v) => c with { CacheTextEncoderOutputs = (bool)v! })
        {
            NotUsed = c => TrainsTextEncoder(c) && !(c.Method == "dreambooth" && c.StopTextEncoderTraining is not null)
                ? "the text encoder is trained for the whole run"
                : null,
        },
        new("cache_latents_to_disk", TrainingConfigKind.Flag, false, false, c => c.CacheLatentsToDisk, (c, v) => c with { CacheLatentsToDisk = (bool)v! })
        {
            NotUsed = c => c.CacheLatents ? null : "needs cache_latents",
        },
        new("gradient_checkpointing", TrainingConfigKind.Flag, false, false, c => c.GradientCheckpointing, (c, v) => c with { GradientCheckpointing = (bool)v! }),
        new("release_freed_memory", TrainingConfigKind.Flag, true, false, c => c.ReleaseFreedMemory, (c, v) => c with { ReleaseFreedMemory = (bool?)v }),
        new("train_text_encoder", TrainingConfigKind.Flag, false, false, c => c.TrainTextEncoder, (c, v) => c with { TrainTextEncoder = (bool)v! })
        {
            NotUsed = c => c.Method == "dreambooth" ? null : "applies to dreambooth; a LoRA trains the text encoder unless network_train_unet_only",
        },
        new("stop_text_encoder_training", TrainingConfigKind.Real, true, false, c => c.StopTextEncoderTraining, (c, v) => c with { StopTextEncoderTraining = (double?)v })
        {
            Range = StopTextEncoder,
            NotUsed = c => c.Method == "dreambooth" && c.TrainTextEncoder ? null : "applies to dreambooth with train_text_encoder",
        },
        new("use_ema", TrainingConfigKind.Flag, false, false, c => c.UseEma, (c, v) => c with { UseEma = (bool)v! }),
        new("ema_decay", TrainingConfigKind.Real, false, false, c => c.EmaDecay, (c, v) => c with { EmaDecay = (double)v! })
        {
            Range = NumericRange.Probability,
            NotUsed = c => c.UseEma ? null : "needs use_ema",
        },
        new("save_model_as", TrainingConfigKind.Text, false, false, c => c.SaveModelAs, (c, v) => c with { SaveModelAs = (string)v! }) { NotUsed = DreamBooth },
    ];

    public static readonly Dictionary<string, TrainingConfigKey> ByName = All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>Whether the run trains a text encoder at all.</summary>
    private static bool TrainsTextEncoder(TrainingConfig c) => c.Method == "lora" ? !c.NetworkTrainUnetOnly : c.TrainTextEncoder;

    private static string Schedule(TrainingConfig c) => c.LrScheduler.Trim().Replace('-', '_').ToLowerInvariant();
}
