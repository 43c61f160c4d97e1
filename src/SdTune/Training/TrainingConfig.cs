using SdTune.Models;
using SdTune.Training.Data;

namespace SdTune.Training;

/// <summary>
/// Everything a training run needs, under sd-scripts' key names (the TOML keys are given on each property). Load one with
/// <see cref="Load"/> or <see cref="Parse"/>, apply <c>key=value</c> overrides with <see cref="WithOverrides"/>, and
/// check it with <see cref="Validate"/>; <see cref="ToToml"/> writes the values back. <see cref="Resolve"/> settles what
/// depends on the model and the dataset (the values a run uses, which <c>--dry-run</c> prints and a run records).
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>The training method, <c>method</c>: "lora" (default), or another registered in <see cref="Methods.TrainingMethods"/>.</summary>
    public string Method { get; init; } = "lora";

    /// <summary>The base model (a single file or a diffusers folder), <c>pretrained_model</c>.</summary>
    public string? PretrainedModel { get; init; }

    /// <summary>Where outputs, states and logs go, <c>output_dir</c>.</summary>
    public string? OutputDir { get; init; }

    /// <summary>The output name, <c>output_name</c>: final "{name}", per epoch "{name}-{epoch:06d}", per step "{name}-step{step:08d}".</summary>
    public string OutputName { get; init; } = "last";

    /// <summary>A kohya dataset TOML file, <c>dataset_config</c> (instead of the folder keys).</summary>
    public string? DatasetConfig { get; init; }

    /// <summary>A folder of "N_name" subfolders of training images, <c>train_data_dir</c>.</summary>
    public string? TrainDataDir { get; init; }

    /// <summary>A folder of "N_name" subfolders of regularisation images, <c>reg_data_dir</c>.</summary>
    public string? RegDataDir { get; init; }

    /// <summary>DreamBooth (diffusers layout): the subject images, <c>instance_data_dir</c>.</summary>
    public string? InstanceDataDir { get; init; }

    /// <summary>DreamBooth: the prompt of the subject images, <c>instance_prompt</c>.</summary>
    public string? InstancePrompt { get; init; }

    /// <summary>DreamBooth: the class images, <c>class_data_dir</c>.</summary>
    public string? ClassDataDir { get; init; }

    /// <summary>DreamBooth: the class prompt, <c>class_prompt</c>.</summary>
    public string? ClassPrompt { get; init; }

    /// <summary>DreamBooth: train with class images, <c>with_prior_preservation</c>.</summary>
    public bool WithPriorPreservation { get; init; }

    /// <summary>DreamBooth: how many class images to use; missing ones are generated, <c>num_class_images</c>.</summary>
    public int NumClassImages { get; init; } = 100;

    /// <summary>
    /// Training resolution "W" or "W,H", each side 8 to 8192, <c>resolution</c>: for folder and DreamBooth datasets, and
    /// for the datasets of a dataset TOML that set none. Null: the model's own size (<see cref="StableDiffusionModel.DefaultImageSize"/>).
    /// </summary>
    public string? Resolution { get; init; }

    /// <summary>Images per batch, <c>train_batch_size</c> (folder and DreamBooth datasets, and datasets of a dataset TOML that set none).</summary>
    public int TrainBatchSize { get; init; } = 1;

    /// <summary>Center crop instead of random crop, <c>center_crop</c> (DreamBooth layout).</summary>
    public bool CenterCrop { get; init; }

    /// <summary>Caption file extension, <c>caption_extension</c> (folder datasets, and subsets of a dataset TOML that set none).</summary>
    public string CaptionExtension { get; init; } = ".caption";

    /// <summary>Aspect-ratio bucketing of a <c>train_data_dir</c> dataset, <c>enable_bucket</c> (sd-scripts' <c>--enable_bucket</c>).</summary>
    public bool EnableBucket { get; init; }

    /// <summary>The smallest bucket side, <c>min_bucket_reso</c> (256).</summary>
    public int MinBucketReso { get; init; } = 256;

    /// <summary>The largest bucket side, <c>max_bucket_reso</c> (1024).</summary>
    public int MaxBucketReso { get; init; } = 1024;

    /// <summary>Bucket sides are multiples of <c>bucket_reso_steps</c> (64).</summary>
    public int BucketResoSteps { get; init; } = 64;

    /// <summary>Buckets follow each image's own size and images are never enlarged, <c>bucket_no_upscale</c>.</summary>
    public bool BucketNoUpscale { get; init; }

    /// <summary>Base learning rate, <c>learning_rate</c>.</summary>
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>UNet learning rate (null: <see cref="LearningRate"/>), <c>unet_lr</c>.</summary>
    public double? UnetLr { get; init; }

    /// <summary>Text-encoder learning rate (null: <see cref="LearningRate"/>), <c>text_encoder_lr</c>.</summary>
    public double? TextEncoderLr { get; init; }

    /// <summary>Optimizer name (AdamW, Lion, Prodigy, Adafactor), <c>optimizer_type</c>.</summary>
    public string OptimizerType { get; init; } = "AdamW";

    /// <summary>Optimizer arguments "k=v" (weight_decay=0.01, betas=0.9,0.99, eps=1e-8, ...), <c>optimizer_args</c>.</summary>
    public IReadOnlyList<string> OptimizerArgs { get; init; } = [];

    /// <summary>Learning-rate schedule, <c>lr_scheduler</c>.</summary>
    public string LrScheduler { get; init; } = "constant";

    /// <summary>Warm-up: steps, a ratio below 1, or "N%", <c>lr_warmup_steps</c>.</summary>
    public string LrWarmupSteps { get; init; } = "0";

    /// <summary>Cosine cycles (null: the schedule's default), <c>lr_scheduler_num_cycles</c>.</summary>
    public double? LrSchedulerNumCycles { get; init; }

    /// <summary>Polynomial power, <c>lr_scheduler_power</c>.</summary>
    public double LrSchedulerPower { get; init; } = 1.0;

    /// <summary>The fraction of the base rate <c>cosine_with_min_lr</c> ends at, <c>lr_scheduler_min_lr_ratio</c>.</summary>
    public double LrSchedulerMinLrRatio { get; init; }

    /// <summary>Total optimizer steps, <c>max_train_steps</c>; takes precedence over epochs.</summary>
    public int? MaxTrainSteps { get; init; }

    /// <summary>Total epochs, <c>max_train_epochs</c> (used when <see cref="MaxTrainSteps"/> is not set).</summary>
    public int? MaxTrainEpochs { get; init; }

    /// <summary>Micro-batches per optimizer step, <c>gradient_accumulation_steps</c>.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Clip gradients to this global norm; 0 disables, <c>max_grad_norm</c>.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Frozen-weight precision, <c>mixed_precision</c> ("no", "bf16", "fp16").</summary>
    public MixedPrecision MixedPrecision { get; init; } = MixedPrecision.No;

    /// <summary>Output tensor type ("float", "fp16", "bf16"; null keeps float32), <c>save_precision</c>.</summary>
    public string? SavePrecision { get; init; }

    /// <summary>Seed of every random draw of the run, <c>seed</c>.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Offset-noise strength, <c>noise_offset</c>.</summary>
    public double NoiseOffset { get; init; }

    /// <summary>Min-SNR weighting gamma (null: off), <c>min_snr_gamma</c>.</summary>
    public double? MinSnrGamma { get; init; }

    /// <summary>Train against velocity (null: what the model predicts), <c>v_parameterization</c>.</summary>
    public bool? VParameterization { get; init; }

    /// <summary>Weight of the class (regularisation) images' loss, <c>prior_loss_weight</c>.</summary>
    public double PriorLossWeight { get; init; } = 1.0;

    /// <summary>Text-encoder layer from the end (1 = last), <c>clip_skip</c>; null uses the model's default.</summary>
    public int? ClipSkip { get; init; }

    /// <summary>Save an output every N optimizer steps, <c>save_every_n_steps</c>.</summary>
    public int? SaveEveryNSteps { get; init; }

    /// <summary>Save an output every N epochs, <c>save_every_n_epochs</c>.</summary>
    public int? SaveEveryNEpochs { get; init; }

    /// <summary>Write a resumable state folder with every save and at the end, <c>save_state</c>.</summary>
    public bool SaveState { get; init; }

    /// <summary>Resume from this state folder, <c>resume</c>.</summary>
    public string? Resume { get; init; }

    /// <summary>Generate sample images every N steps, <c>sample_every_n_steps</c>.</summary>
    public int? SampleEveryNSteps { get; init; }

    /// <summary>Generate sample images every N epochs (overrides steps), <c>sample_every_n_epochs</c>.</summary>
    public int? SampleEveryNEpochs { get; init; }

    /// <summary>Sample prompts file (one prompt a line, with --n --w --h --s --l --d options), <c>sample_prompts</c>.</summary>
    public string? SamplePrompts { get; init; }

    /// <summary>TensorBoard log folder, <c>logging_dir</c>.</summary>
    public string? LoggingDir { get; init; }

    /// <summary>Encode each image crop with the VAE once and reuse it (a cache keyed by image, crop, flip and VAE), <c>cache_latents</c>.</summary>
    public bool CacheLatents { get; init; }

    /// <summary>With a frozen text encoder, encode each distinct caption once, <c>cache_text_encoder_outputs</c>.</summary>
    public bool CacheTextEncoderOutputs { get; init; }

    /// <summary>With <see cref="CacheLatents"/>: keep the cache on disk (under the output folder) across runs.</summary>
    public bool CacheLatentsToDisk { get; init; }

    /// <summary>Recompute activations in the backward pass to save memory, <c>gradient_checkpointing</c>.</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>
    /// Return large freed blocks to the operating system at once (see <see cref="Runtime.NativeAllocator"/>),
    /// <c>release_freed_memory</c>: lowers peak memory a lot at some cost in speed. Null follows
    /// <see cref="GradientCheckpointing"/>, the other speed-for-memory trade.
    /// </summary>
    public bool? ReleaseFreedMemory { get; init; }

    /// <summary>Keep an exponential moving average of the trained weights and save it, <c>use_ema</c>.</summary>
    public bool UseEma { get; init; }

    /// <summary>EMA decay, <c>ema_decay</c>.</summary>
    public double EmaDecay { get; init; } = 0.9999;

    /// <summary>The values of the keys the training methods declare (read them with <see cref="TrainingOption{T}.Value"/>).</summary>
    public MethodOptionValues MethodOptions { get; init; } = MethodOptionValues.Empty;

    /// <summary>This configuration with a method's key set.</summary>
    public TrainingConfig With<T>(TrainingOption<T> option, T value)
    {
        ArgumentNullException.ThrowIfNull(option);
        return option.Set(this, value);
    }

    /// <summary>Reads a TOML configuration file; relative paths in it are resolved against its folder.</summary>
    /// <exception cref="TrainingConfigException">The file is not valid TOML, or a key is unknown or has the wrong type.</exception>
    public static TrainingConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new TrainingConfigException("config", $"file not found: {path}");
        }

        return TrainingConfigParser.Parse(File.ReadAllText(path), path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Reads a configuration from TOML text.</summary>
    /// <param name="toml">The text.</param>
    /// <param name="sourceName">Where it came from, for messages.</param>
    /// <param name="baseDirectory">Relative paths are resolved against this folder; null leaves them as written.</param>
    /// <exception cref="TrainingConfigException">Invalid TOML, an unknown key, or a value of the wrong type.</exception>
    public static TrainingConfig Parse(string toml, string sourceName = "config", string? baseDirectory = null) =>
        TrainingConfigParser.Parse(toml, sourceName, baseDirectory);

    /// <summary>Applies command-line style overrides, each "key=value" with a TOML value (strings may be left unquoted).</summary>
    /// <exception cref="TrainingConfigException">An override is malformed, names an unknown key or has the wrong type.</exception>
    public TrainingConfig WithOverrides(IEnumerable<string> overrides) => TrainingConfigParser.ApplyOverrides(this, overrides);

    /// <summary>The configuration as TOML (every key, unset ones left out); <see cref="Parse"/> reads it back.</summary>
    public string ToToml() => TrainingConfigWriter.Write(this);

    /// <summary>
    /// The dataset options of a <c>train_data_dir</c> dataset: batch size, <paramref name="size"/> and the bucketing keys,
    /// checked as sd-scripts checks its arguments (with <paramref name="size"/> null, only the checks that need no
    /// resolution).
    /// </summary>
    /// <exception cref="TrainingConfigException">The bucket settings contradict each other or cannot hold the resolution; names the key.</exception>
    public DatasetOptions FolderDatasetOptions(PixelSize? size)
    {
        TrainingConfigValidation.Buckets(this, size);
        return new DatasetOptions
        {
            BatchSize = TrainBatchSize,
            Resolution = size,
            EnableBucket = EnableBucket,
            MinBucketReso = MinBucketReso,
            MaxBucketReso = MaxBucketReso,
            BucketResoSteps = BucketResoSteps,
            BucketNoUpscale = BucketNoUpscale,
        };
    }

    /// <summary>The training resolution as a size; null when it is left to the model.</summary>
    /// <exception cref="TrainingConfigException">The resolution is malformed or out of range.</exception>
    public PixelSize? ResolutionSize => Resolution is null ? null : TrainingConfigParser.ParseResolution(Resolution);

    /// <summary>
    /// Checks every value: each number in the range (and the precision) it is used in, then the rules between keys; the
    /// first problem is thrown with the key it concerns.
    /// </summary>
    /// <exception cref="TrainingConfigException">A value is missing, malformed or out of range.</exception>
    public void Validate() => TrainingConfigValidation.Validate(this);

    /// <summary>Validates the configuration and resolves it against the model and the dataset (see <see cref="ResolvedTrainingConfig"/>).</summary>
    /// <exception cref="TrainingConfigException">A value is invalid, or out of range for this model.</exception>
    /// <exception cref="DatasetConfigException">The dataset TOML is invalid.</exception>
    public ResolvedTrainingConfig Resolve(StableDiffusionModel model) => ResolvedTrainingConfig.Resolve(this, model);
}
