using SdTune.Training.Data;
using SdTune.Training.Methods;
using SdTune.Training.Optimization;

namespace SdTune.Training;

/// <summary>
/// The checks of <see cref="TrainingConfig.Validate"/>, each naming its key: every numeric key against the range its
/// entry in <see cref="TrainingConfigKeys"/> declares, then the rules that involve several keys.
/// </summary>
internal static class TrainingConfigValidation
{
    public static void Validate(TrainingConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        foreach (var key in TrainingConfigKeys.All)
        {
            if (key.Get(c) is not { } value)
            {
                continue;
            }

            if (key.Range is { } range && range.Problem(System.Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)) is { } problem)
            {
                throw new TrainingConfigException(key.Name, problem);
            }

            if (key.Check(value) is { } wrong)
            {
                throw new TrainingConfigException(key.Name, wrong);
            }
        }

        var method = TrainingMethods.Get(c.Method);
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

        _ = c.ResolutionSize;
        if (c.TrainDataDir is not null)
        {
            Buckets(c, c.ResolutionSize);
        }

        foreach (var arg in c.OptimizerArgs)
        {
            Require(arg.Contains('=', StringComparison.Ordinal), "optimizer_args", $"\"{arg}\" is not key=value.");
        }

        Require(OptimizerFactory.Names.Any(n => string.Equals(n, c.OptimizerType.Trim(), StringComparison.OrdinalIgnoreCase)),
            "optimizer_type", $"unknown optimizer \"{c.OptimizerType}\"; valid: {string.Join(", ", OptimizerFactory.Names)}.");
        _ = OptimizerArguments.Create(c.OptimizerType, c.OptimizerArgs);
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

        Require(c.MaxTrainSteps is not null || c.MaxTrainEpochs is not null, "max_train_steps", "set max_train_steps or max_train_epochs.");
        Require(c.SavePrecision is null or "float" or "fp32" or "fp16" or "bf16", "save_precision", $"\"{c.SavePrecision}\" is not one of float, fp16, bf16.");
        Require((c.SampleEveryNSteps is null && c.SampleEveryNEpochs is null) || c.SamplePrompts is not null, "sample_prompts", "is required when sampling every N steps or epochs.");
        method.Validate(c);
    }

    /// <summary>
    /// The bucketing keys of a <c>train_data_dir</c> dataset, checked as sd-scripts checks its arguments (with
    /// <paramref name="size"/> null, only the checks that need no resolution).
    /// </summary>
    /// <exception cref="TrainingConfigException">The bucket settings contradict each other or cannot hold the resolution; names the key.</exception>
    public static void Buckets(TrainingConfig c, PixelSize? size)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (!c.EnableBucket)
        {
            return;
        }

        Require(c.MaxBucketReso >= c.MinBucketReso, "max_bucket_reso", $"({c.MaxBucketReso}) must be at least min_bucket_reso ({c.MinBucketReso}).");
        if (c.BucketNoUpscale)
        {
            return;
        }

        Require(c.MinBucketReso % c.BucketResoSteps == 0 && c.MaxBucketReso % c.BucketResoSteps == 0, "bucket_reso_steps",
            $"{c.BucketResoSteps} must divide min_bucket_reso ({c.MinBucketReso}) and max_bucket_reso ({c.MaxBucketReso}).");
        Require(size is not { } small || Math.Min(small.Width, small.Height) >= c.MinBucketReso, "min_bucket_reso",
            $"({c.MinBucketReso}) must not exceed the smaller side of the resolution {size}.");
        Require(size is not { } large || Math.Max(large.Width, large.Height) <= c.MaxBucketReso, "max_bucket_reso",
            $"({c.MaxBucketReso}) must not be below the larger side of the resolution {size}.");
    }

    private static void Require(bool condition, string key, string message)
    {
        if (!condition)
        {
            throw new TrainingConfigException(key, message);
        }
    }
}
