using SdTune.Options;

namespace SdTune.Training;

/// <summary>The key table of <see cref="TrainingConfig"/>: reading, overrides, validation and writing share it.</summary>
public static class TrainingConfigKeys
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


    private static readonly Func<TrainingConfig, string?> InstanceLayout = c => c.InstanceDataDir is not null ? null : "applies to instance_data_dir datasets";
    private static readonly Func<TrainingConfig, string?> FolderDataset = c => c.TrainDataDir is not null ? null
        : c.DatasetConfig is not null ? "a dataset_config sets bucketing in its [[datasets]]" : "applies to train_data_dir datasets";

    private static readonly Func<TrainingConfig, string?> Bucketing = c => FolderDataset(c) ?? (c.EnableBucket ? null : "needs enable_bucket");

    private static readonly Func<TrainingConfig, string?> PriorPreservation = c => c.InstanceDataDir is not null && c.WithPriorPreservation ? null : "needs with_prior_preservation";

    /// <summary>The trainer's own keys, in table order (the methods' keys follow them in <see cref="All"/>).</summary>
    public static readonly IReadOnlyList<TrainingConfigKey> Common =
    [
        new("method", TrainingConfigKind.Text, false, false, c => c.Method, (c, v) => c with { Method = (string)v! }),
        new("pretrained_model", TrainingConfigKind.Text, true, true, c => c.PretrainedModel, (c, v) => c with { PretrainedModel = (string?)v }) { Flag = "--model", Help = "Base model: diffusers folder or single-file checkpoint." },
        new("output_dir", TrainingConfigKind.Text, true, true, c => c.OutputDir, (c, v) => c with { OutputDir = (string?)v }) { Flag = "--output-dir", Help = "Where outputs, states and samples go." },
        new("output_name", TrainingConfigKind.Text, false, false, c => c.OutputName, (c, v) => c with { OutputName = (string)v! }) { Flag = "--output-name", Help = "Base name of the outputs." },
        new("dataset_config", TrainingConfigKind.Text, true, true, c => c.DatasetConfig, (c, v) => c with { DatasetConfig = (string?)v }) { Flag = "--dataset-config", Help = "A kohya dataset TOML instead of the folders." },
        new("train_data_dir", TrainingConfigKind.Text, true, true, c => c.TrainDataDir, (c, v) => c with { TrainDataDir = (string?)v }) { Flag = "--train-data-dir", Help = "Training images in N_concept folders (kohya layout)." },
        new("reg_data_dir", TrainingConfigKind.Text, true, true, c => c.RegDataDir, (c, v) => c with { RegDataDir = (string?)v }) { Flag = "--reg-data-dir", Help = "Regularisation (class) images in N_concept folders." },
        new("instance_data_dir", TrainingConfigKind.Text, true, true, c => c.InstanceDataDir, (c, v) => c with { InstanceDataDir = (string?)v }) { Flag = "--instance-data-dir", Help = "The subject's images (diffusers DreamBooth layout)." },
        new("instance_prompt", TrainingConfigKind.Text, true, false, c => c.InstancePrompt, (c, v) => c with { InstancePrompt = (string?)v }) { NotUsed = InstanceLayout, Flag = "--instance-prompt", Help = "Prompt of the subject, e.g. \"a photo of sks dog\"." },
        new("class_data_dir", TrainingConfigKind.Text, true, true, c => c.ClassDataDir, (c, v) => c with { ClassDataDir = (string?)v }) { NotUsed = PriorPreservation, Flag = "--class-data-dir", Help = "Class images (generated with the base model when too few)." },
        new("class_prompt", TrainingConfigKind.Text, true, false, c => c.ClassPrompt, (c, v) => c with { ClassPrompt = (string?)v }) { NotUsed = PriorPreservation, Flag = "--class-prompt", Help = "Prompt of the class, e.g. \"a photo of dog\"." },
        new("with_prior_preservation", TrainingConfigKind.Flag, false, false, c => c.WithPriorPreservation, (c, v) => c with { WithPriorPreservation = (bool)v! }) { NotUsed = InstanceLayout },
        new("num_class_images", TrainingConfigKind.Integer, false, false, c => c.NumClassImages, (c, v) => c with { NumClassImages = (int)v! }) { Range = NumericRange.Count(), NotUsed = PriorPreservation, Flag = "--num-class-images", Help = "Class images wanted for prior preservation." },
        new("resolution", TrainingConfigKind.Text, true, false, c => c.Resolution, (c, v) => c with { Resolution = (string?)v }) { Flag = "--resolution", Help = "Training resolution (e.g. 512 or 512,768)." },
        new("train_batch_size", TrainingConfigKind.Integer, false, false, c => c.TrainBatchSize, (c, v) => c with { TrainBatchSize = (int)v! }) { Range = BatchCount, Flag = "--batch-size", Help = "Batch size." },
        new("center_crop", TrainingConfigKind.Flag, false, false, c => c.CenterCrop, (c, v) => c with { CenterCrop = (bool)v! }) { NotUsed = InstanceLayout },
        new("caption_extension", TrainingConfigKind.Text, false, false, c => c.CaptionExtension, (c, v) => c with { CaptionExtension = (string)v! })
        {
            NotUsed = c => c.InstanceDataDir is null ? null : "instance_data_dir datasets are captioned by instance_prompt and class_prompt",
        },
        new("enable_bucket", TrainingConfigKind.Flag, false, false, c => c.EnableBucket, (c, v) => c with { EnableBucket = (bool)v! })
        {
            NotUsed = FolderDataset, Flag = "--enable-bucket", Help = "Aspect-ratio bucketing of a train_data_dir dataset: each image trains at the bucket nearest its aspect ratio with the resolution's area.",
        },
        new("min_bucket_reso", TrainingConfigKind.Integer, false, false, c => c.MinBucketReso, (c, v) => c with { MinBucketReso = (int)v! }) { Range = NumericRange.Count(), NotUsed = Bucketing, Help = "The smallest bucket side." },
        new("max_bucket_reso", TrainingConfigKind.Integer, false, false, c => c.MaxBucketReso, (c, v) => c with { MaxBucketReso = (int)v! }) { Range = NumericRange.Count(), NotUsed = Bucketing, Help = "The largest bucket side." },
        new("bucket_reso_steps", TrainingConfigKind.Integer, false, false, c => c.BucketResoSteps, (c, v) => c with { BucketResoSteps = (int)v! }) { Range = NumericRange.Count(), NotUsed = Bucketing, Help = "Bucket sides are multiples of this (64; SDXL may use 32)." },
        new("bucket_no_upscale", TrainingConfigKind.Flag, false, false, c => c.BucketNoUpscale, (c, v) => c with { BucketNoUpscale = (bool)v! }) { NotUsed = Bucketing, Help = "Buckets follow each image's own size; images are never enlarged." },
        new("learning_rate", TrainingConfigKind.Real, false, false, c => c.LearningRate, (c, v) => c with { LearningRate = (double)v! }) { Range = NumericRange.NonNegativeFloat32, Flag = "--learning-rate", Help = "Learning rate." },
        new("unet_lr", TrainingConfigKind.Real, true, false, c => c.UnetLr, (c, v) => c with { UnetLr = (double?)v })
        {
            Range = NumericRange.NonNegativeFloat32,
            NotUsed = c => Trains(c).Unet ? null : "this run trains no UNet weights",
        },
        new("text_encoder_lr", TrainingConfigKind.Real, true, false, c => c.TextEncoderLr, (c, v) => c with { TextEncoderLr = (double?)v })
        {
            Range = NumericRange.NonNegativeFloat32,
            NotUsed = c => Trains(c).TextEncoder ? null : "the text encoder is not trained",
        },
        new("optimizer_type", TrainingConfigKind.Text, false, false, c => c.OptimizerType, (c, v) => c with { OptimizerType = (string)v! }) { Flag = "--optimizer", Help = "AdamW, Prodigy, Adafactor or Lion." },
        new("optimizer_args", TrainingConfigKind.TextList, false, false, c => c.OptimizerArgs, (c, v) => c with { OptimizerArgs = (IReadOnlyList<string>)v! }),
        new("lr_scheduler", TrainingConfigKind.Text, false, false, c => c.LrScheduler, (c, v) => c with { LrScheduler = (string)v! }) { Flag = "--lr-scheduler", Help = "constant, constant_with_warmup, linear, cosine, cosine_with_restarts, polynomial, cosine_with_min_lr." },
        new("lr_warmup_steps", TrainingConfigKind.Text, false, false, c => c.LrWarmupSteps, (c, v) => c with { LrWarmupSteps = (string)v! })
        {
            NotUsed = c => Schedule(c) == "constant" ? "the constant schedule has no warm-up (use constant_with_warmup)" : null,
        },
        new("lr_scheduler_num_cycles", TrainingConfigKind.Real, true, false, c => c.LrSchedulerNumCycles, (c, v) => c with { LrSchedulerNumCycles = (double?)v })
        {
            Range = NumericRange.PositiveFloat64,
            NotUsed = c => Schedule(c) is "cosine" or "cosine_with_restarts" or "cosine_with_min_lr" ? null : "applies to the cosine schedules",
        },
        new("lr_scheduler_power", TrainingConfigKind.Real, false, false, c => c.LrSchedulerPower, (c, v) => c with { LrSchedulerPower = (double)v! })
        {
            Range = NumericRange.PositiveFloat64,
            NotUsed = c => Schedule(c) == "polynomial" ? null : "applies to the polynomial schedule",
        },
        new("lr_scheduler_min_lr_ratio", TrainingConfigKind.Real, false, false, c => c.LrSchedulerMinLrRatio, (c, v) => c with { LrSchedulerMinLrRatio = (double)v! })
        {
            Range = NumericRange.Probability,
            NotUsed = c => Schedule(c) == "cosine_with_min_lr" ? null : "applies to cosine_with_min_lr",
        },
        new("max_train_steps", TrainingConfigKind.Integer, true, false, c => c.MaxTrainSteps, (c, v) => c with { MaxTrainSteps = (int?)v }) { Range = NumericRange.Count(), Flag = "--max-train-steps", Help = "Steps to train." },
        new("max_train_epochs", TrainingConfigKind.Integer, true, false, c => c.MaxTrainEpochs, (c, v) => c with { MaxTrainEpochs = (int?)v })
        {
            Range = NumericRange.Count(),
            NotUsed = c => c.MaxTrainSteps is null ? null : "max_train_steps takes precedence",
        },
        new("gradient_accumulation_steps", TrainingConfigKind.Integer, false, false, c => c.GradientAccumulationSteps, (c, v) => c with { GradientAccumulationSteps = (int)v! }) { Range = BatchCount },
        new("max_grad_norm", TrainingConfigKind.Real, false, false, c => c.MaxGradNorm, (c, v) => c with { MaxGradNorm = (double)v! }) { Range = NumericRange.NonNegativeFloat32 },
        new("mixed_precision", TrainingConfigKind.Precision, false, false, c => c.MixedPrecision, (c, v) => c with { MixedPrecision = (MixedPrecision)v! }) { Flag = "--mixed-precision", Help = "no, bf16 or fp16 (frozen weights in that type)." },
        new("save_precision", TrainingConfigKind.Text, true, false, c => c.SavePrecision, (c, v) => c with { SavePrecision = (string?)v }),
        new("seed", TrainingConfigKind.Long, false, false, c => c.Seed, (c, v) => c with { Seed = (long)v! }) { Flag = "--seed", Help = "Seed (CPU runs are reproducible)." },
        new("noise_offset", TrainingConfigKind.Real, false, false, c => c.NoiseOffset, (c, v) => c with { NoiseOffset = (double)v! }) { Range = NumericRange.NonNegativeFloat32 },
        new("min_snr_gamma", TrainingConfigKind.Real, true, false, c => c.MinSnrGamma, (c, v) => c with { MinSnrGamma = (double?)v }) { Range = NumericRange.PositiveFloat32 },
        new("v_parameterization", TrainingConfigKind.Flag, true, false, c => c.VParameterization, (c, v) => c with { VParameterization = (bool?)v }),
        new("prior_loss_weight", TrainingConfigKind.Real, false, false, c => c.PriorLossWeight, (c, v) => c with { PriorLossWeight = (double)v! })
        {
            Flag = "--prior-loss-weight", Help = "Weight of the prior-preservation loss.",
            Range = NumericRange.NonNegativeFloat32,
            NotUsed = c => c.InstanceDataDir is not null ? PriorPreservation(c) : c.TrainDataDir is not null && c.RegDataDir is null ? "there is no reg_data_dir" : null,
        },
        new("clip_skip", TrainingConfigKind.Integer, true, false, c => c.ClipSkip, (c, v) => c with { ClipSkip = (int?)v }) { Range = NumericRange.Count() },
        new("save_every_n_steps", TrainingConfigKind.Integer, true, false, c => c.SaveEveryNSteps, (c, v) => c with { SaveEveryNSteps = (int?)v }) { Range = NumericRange.Count(), Flag = "--save-every-n-steps", Help = "Save every N steps." },
        new("save_every_n_epochs", TrainingConfigKind.Integer, true, false, c => c.SaveEveryNEpochs, (c, v) => c with { SaveEveryNEpochs = (int?)v }) { Range = NumericRange.Count() },
        new("save_state", TrainingConfigKind.Flag, false, false, c => c.SaveState, (c, v) => c with { SaveState = (bool)v! }),
        new("resume", TrainingConfigKind.Text, true, true, c => c.Resume, (c, v) => c with { Resume = (string?)v }),
        new("sample_every_n_steps", TrainingConfigKind.Integer, true, false, c => c.SampleEveryNSteps, (c, v) => c with { SampleEveryNSteps = (int?)v })
        {
            Flag = "--sample-every-n-steps", Help = "Sample every N steps.",
            Range = NumericRange.Count(),
            NotUsed = c => c.SampleEveryNEpochs is null ? null : "sample_every_n_epochs takes precedence",
        },
        new("sample_every_n_epochs", TrainingConfigKind.Integer, true, false, c => c.SampleEveryNEpochs, (c, v) => c with { SampleEveryNEpochs = (int?)v }) { Range = NumericRange.Count() },
        new("sample_prompts", TrainingConfigKind.Text, true, true, c => c.SamplePrompts, (c, v) => c with { SamplePrompts = (string?)v })
        {
            Flag = "--sample-prompts", Help = "Prompts file for sample images (--n --w --h --s --l --d options per line).",
            NotUsed = c => c.SampleEveryNSteps is null && c.SampleEveryNEpochs is null ? "no sample_every_n_steps or sample_every_n_epochs" : null,
        },
        new("logging_dir", TrainingConfigKind.Text, true, true, c => c.LoggingDir, (c, v) => c with { LoggingDir = (string?)v }),
        new("cache_latents", TrainingConfigKind.Flag, false, false, c => c.CacheLatents, (c, v) => c with { CacheLatents = (bool)v! }),
        new("cache_text_encoder_outputs", TrainingConfigKind.Flag, false, false, c => c.CacheTextEncoderOutputs, (c, v) => c with { CacheTextEncoderOutputs = (bool)v! })
        {
            NotUsed = c => Trains(c).TextEncoderToTheEnd ? "the text encoder is trained for the whole run" : null,
        },
        new("cache_latents_to_disk", TrainingConfigKind.Flag, false, false, c => c.CacheLatentsToDisk, (c, v) => c with { CacheLatentsToDisk = (bool)v! })
        {
            NotUsed = c => c.CacheLatents ? null : "needs cache_latents",
        },
        new("gradient_checkpointing", TrainingConfigKind.Flag, false, false, c => c.GradientCheckpointing, (c, v) => c with { GradientCheckpointing = (bool)v! }),
        new("release_freed_memory", TrainingConfigKind.Flag, true, false, c => c.ReleaseFreedMemory, (c, v) => c with { ReleaseFreedMemory = (bool?)v }),
        new("use_ema", TrainingConfigKind.Flag, false, false, c => c.UseEma, (c, v) => c with { UseEma = (bool)v! }),
        new("ema_decay", TrainingConfigKind.Real, false, false, c => c.EmaDecay, (c, v) => c with { EmaDecay = (double)v! })
        {
            Range = NumericRange.Probability,
            NotUsed = c => c.UseEma ? null : "needs use_ema",
        },
    ];

    /// <summary>Every key: the trainer's, then those of every registered method.</summary>
    public static IReadOnlyList<TrainingConfigKey> All => Methods.TrainingMethods.Keys;

    /// <summary>Every key by name.</summary>
    public static IReadOnlyDictionary<string, TrainingConfigKey> ByName => Methods.TrainingMethods.KeysByName;

    /// <summary>What the configured method trains; everything for an unknown method (validation reports it).</summary>
    private static TrainedParts Trains(TrainingConfig c) => Methods.TrainingMethods.Find(c.Method)?.Trains(c) ?? new TrainedParts(true, true, true);

    private static string Schedule(TrainingConfig c) => c.LrScheduler.Trim().Replace('-', '_').ToLowerInvariant();
}
