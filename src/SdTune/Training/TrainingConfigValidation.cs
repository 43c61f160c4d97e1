using SdTune.Training.Optimization;

namespace SdTune.Training;

/// <summary>The checks of <see cref="TrainingConfig.Validate"/>, each naming its key.</summary>
internal static class TrainingConfigValidation
{
    public static readonly string[] Methods = ["lora", "dreambooth"];

    public static void Validate(TrainingConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        Require(Methods.Contains(c.Method), "method", $"unknown method \"{c.Method}\"; use {string.Join(" or ", Methods.Select(m => $"\"{m}\""))}.");
        Require(!string.IsNullOrWhiteSpace(c.PretrainedModel), "pretrained_model", "is required (a model file or diffusers folder).");
        Require(!string.IsNullOrWhiteSpace(c.OutputDir), "output_dir", "is required.");
        Require(!string.IsNullOrWhiteSpace(c.OutputName) && c.OutputName.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && c.OutputName is not ("." or ".."),
            "output_name", $"\"{c.OutputName}\" is not a valid file name.");

        var sources = new[] { c.DatasetConfig is not null, c.TrainDataDir is not null, c.InstanceDataDir is not null }.Count(b => b);
        Require(sources == 1, c.DatasetConfig is not null ? "dataset_config" : "train_data_dir",
            sources == 0 ? "no training data: set dataset_config, train_data_dir or instance_data_dir."
                : "set only one of dataset_config, train_data_dir and instance_data_dir.");
        Require(c.RegDataDir is null || c.TrainDataDir is not null, "reg_data_dir", "needs train_data_dir.");
        if (c.InstanceDataDir is not null)
        {
            Require(!string.IsNullOrEmpty(c.InstancePrompt), "instance_prompt", "is required with instance_data_dir.");
            if (c.WithPriorPreservation)
            {
                Require(c.ClassDataDir is not null, "class_data_dir", "is required with with_prior_preservation.");
                Require(!string.IsNullOrEmpty(c.ClassPrompt), "class_prompt", "is required with with_prior_preservation.");
            }
        }
        else
        {
            Require(!c.WithPriorPreservation, "with_prior_preservation", "applies to instance_data_dir datasets; with dataset_config or train_data_dir the regularisation images are the class images.");
        }

        Require(c.NumClassImages >= 1, "num_class_images", $"must be at least 1, got {c.NumClassImages}.");
        _ = c.ResolutionSize;
        Require(c.TrainBatchSize >= 1, "train_batch_size", $"must be at least 1, got {c.TrainBatchSize}.");
        Require(c.NetworkDim >= 1, "network_dim", $"must be at least 1, got {c.NetworkDim}.");
        Require(double.IsFinite(c.NetworkAlpha) && c.NetworkAlpha > 0, "network_alpha", $"must be finite and > 0, got {c.NetworkAlpha}.");
        Require(c.NetworkDropout is >= 0 and < 1, "network_dropout", $"must be in [0, 1), got {c.NetworkDropout}.");
        Require(!(c.NetworkTrainUnetOnly && c.NetworkTrainTextEncoderOnly), "network_train_unet_only", "cannot be combined with network_train_text_encoder_only.");
        foreach (var arg in c.NetworkArgs)
        {
            Require(arg.Contains('=', StringComparison.Ordinal), "network_args", $"\"{arg}\" is not key=value.");
        }

        foreach (var arg in c.OptimizerArgs)
        {
            Require(arg.Contains('=', StringComparison.Ordinal), "optimizer_args", $"\"{arg}\" is not key=value.");
        }

        RequireRate(c.LearningRate, "learning_rate");
        if (c.UnetLr is { } unetLr)
        {
            RequireRate(unetLr, "unet_lr");
        }

        if (c.TextEncoderLr is { } teLr)
        {
            RequireRate(teLr, "text_encoder_lr");
        }

        Require(OptimizerFactory.Names.Any(n => string.Equals(n, c.OptimizerType.Trim(), StringComparison.OrdinalIgnoreCase)),
            "optimizer_type", $"unknown optimizer \"{c.OptimizerType}\"; valid: {string.Join(", ", OptimizerFactory.Names)}.");
        Require(LearningRateSchedule.Names.Contains(c.LrScheduler.Trim().Replace('-', '_').ToLowerInvariant()),
            "lr_scheduler", $"unknown schedule \"{c.LrScheduler}\"; valid: {string.Join(", ", LearningRateSchedule.Names)}.");
        try
        {
            _ = WarmupLength.Parse(c.LrWarmupSteps);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new TrainingConfigException("lr_warmup_steps", e.Message, e);
        }

        Require(c.LrSchedulerNumCycles is null || (double.IsFinite(c.LrSchedulerNumCycles.Value) && c.LrSchedulerNumCycles > 0), "lr_scheduler_num_cycles", "must be finite and > 0.");
        Require(c.MaxTrainSteps is null or >= 1, "max_train_steps", $"must be at least 1, got {c.MaxTrainSteps}.");
        Require(c.MaxTrainEpochs is null or >= 1, "max_train_epochs", $"must be at least 1, got {c.MaxTrainEpochs}.");
        Require(c.MaxTrainSteps is not null || c.MaxTrainEpochs is not null, "max_train_steps", "set max_train_steps or max_train_epochs.");
        Require(c.GradientAccumulationSteps >= 1, "gradient_accumulation_steps", $"must be at least 1, got {c.GradientAccumulationSteps}.");
        Require(double.IsFinite(c.MaxGradNorm) && c.MaxGradNorm >= 0, "max_grad_norm", $"must be finite and >= 0 (0 disables clipping), got {c.MaxGradNorm}.");
        Require(c.SavePrecision is null or "float" or "fp32" or "fp16" or "bf16", "save_precision", $"\"{c.SavePrecision}\" is not one of float, fp16, bf16.");
        Require(double.IsFinite(c.NoiseOffset) && c.NoiseOffset >= 0, "noise_offset", $"must be finite and >= 0, got {c.NoiseOffset}.");
        Require(c.MinSnrGamma is null || (double.IsFinite(c.MinSnrGamma.Value) && c.MinSnrGamma > 0), "min_snr_gamma", $"must be finite and > 0, got {c.MinSnrGamma}.");
        Require(double.IsFinite(c.PriorLossWeight) && c.PriorLossWeight >= 0, "prior_loss_weight", $"must be finite and >= 0, got {c.PriorLossWeight}.");
        Require(c.ClipSkip is null or >= 1, "clip_skip", $"must be at least 1 (1 = last layer), got {c.ClipSkip}.");
        Require(c.SaveEveryNSteps is null or >= 1, "save_every_n_steps", $"must be at least 1, got {c.SaveEveryNSteps}.");
        Require(c.SaveEveryNEpochs is null or >= 1, "save_every_n_epochs", $"must be at least 1, got {c.SaveEveryNEpochs}.");
        Require(c.SampleEveryNSteps is null or >= 1, "sample_every_n_steps", $"must be at least 1, got {c.SampleEveryNSteps}.");
        Require(c.SampleEveryNEpochs is null or >= 1, "sample_every_n_epochs", $"must be at least 1, got {c.SampleEveryNEpochs}.");
        Require((c.SampleEveryNSteps is null && c.SampleEveryNEpochs is null) || c.SamplePrompts is not null, "sample_prompts", "is required when sampling every N steps or epochs.");
        Require(c.StopTextEncoderTraining is null || (double.IsFinite(c.StopTextEncoderTraining.Value) && c.StopTextEncoderTraining > 0),
            "stop_text_encoder_training", $"must be > 0 (a fraction below 1, or a step count), got {c.StopTextEncoderTraining}.");
        Require(c.EmaDecay is >= 0 and <= 1, "ema_decay", $"must be in [0, 1], got {c.EmaDecay}.");
        var forms = c.SaveModelAs.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Require(forms.Length > 0 && forms.All(f => f is "diffusers" or "safetensors"), "save_model_as", $"\"{c.SaveModelAs}\": use diffusers, safetensors, or both comma-separated.");
    }

    private static void RequireRate(double value, string key) =>
        Require(double.IsFinite(value) && value >= 0, key, $"must be finite and >= 0, got {value}.");

    private static void Require(bool condition, string key, string message)
    {
        if (!condition)
        {
            throw new TrainingConfigException(key, message);
        }
    }
}
