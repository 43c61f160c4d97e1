using System.Globalization;
using System.Text.Json.Nodes;
using SdTune.IO;
using SdTune.Training.Data;

namespace SdTune.Training.Methods;

/// <summary>The <c>ss_*</c> training keys sd-scripts writes into a LoRA file, filled from the run.</summary>
internal static class KohyaTrainingMetadata
{
    public static Dictionary<string, string> Build(TrainingRunInfo info, DateTimeOffset finishedAt)
    {
        var c = info.Config;
        var unetLr = c.UnetLr ?? c.LearningRate;
        var teLr = c.TextEncoderLr ?? c.LearningRate;
        var m = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ss_session_id"] = info.SessionId.ToString(CultureInfo.InvariantCulture),
            ["ss_training_started_at"] = UnixTime(info.StartedAt),
            ["ss_training_finished_at"] = UnixTime(finishedAt),
            ["ss_learning_rate"] = Py(c.LearningRate),
            ["ss_unet_lr"] = Py(unetLr),
            ["ss_text_encoder_lr"] = Py(teLr),
            ["ss_num_train_images"] = Int(info.TrainImages),
            ["ss_num_reg_images"] = Int(info.RegImages),
            ["ss_num_validation_images"] = "0",
            ["ss_num_batches_per_epoch"] = Int(info.BatchesPerEpoch),
            ["ss_num_epochs"] = Int(info.TotalEpochs),
            ["ss_steps"] = info.Step.ToString(CultureInfo.InvariantCulture),
            ["ss_epoch"] = Int(info.Epoch),
            ["ss_max_train_steps"] = info.TotalSteps.ToString(CultureInfo.InvariantCulture),
            ["ss_gradient_checkpointing"] = Bool(c.GradientCheckpointing),
            ["ss_gradient_accumulation_steps"] = Int(c.GradientAccumulationSteps),
            ["ss_lr_warmup_steps"] = info.WarmupSteps.ToString(CultureInfo.InvariantCulture),
            ["ss_lr_scheduler"] = c.LrScheduler,
            ["ss_mixed_precision"] = c.MixedPrecision switch
            {
                MixedPrecision.BFloat16 => "bf16",
                MixedPrecision.Float16 => "fp16",
                _ => "no",
            },
            ["ss_full_fp16"] = "False",
            ["ss_fp8_base"] = "False",
            ["ss_fp8_base_unet"] = "False",
            ["ss_cache_latents"] = Bool(c.CacheLatents),
            ["ss_seed"] = c.Seed.ToString(CultureInfo.InvariantCulture),
            ["ss_lowram"] = "False",
            ["ss_noise_offset"] = c.NoiseOffset > 0 ? Py(c.NoiseOffset) : "None",
            ["ss_min_snr_gamma"] = c.MinSnrGamma is { } g ? Py(g) : "None",
            ["ss_loss_type"] = "l2",
            ["ss_optimizer"] = info.Optimizer,
            ["ss_max_grad_norm"] = Py(c.MaxGradNorm),
            ["ss_prior_loss_weight"] = Py(c.PriorLossWeight),
            ["ss_training_comment"] = "None",
            ["ss_sd_model_name"] = c.PretrainedModel is { } model ? Path.GetFileName(model.TrimEnd('/', '\\')) : "None",
            ["ss_sd_scripts_commit_hash"] = "(unknown)",
        };
        if (info.Dataset is { } summary)
        {
            var (datasets, dirs, tags) = DatasetKeys(summary);
            m["ss_datasets"] = PythonJson.Serialize(datasets);
            m["ss_tag_frequency"] = PythonJson.Serialize(tags);
            m["ss_dataset_dirs"] = PythonJson.Serialize(dirs);
        }
        else
        {
            var r = info.Resolution;
            m["ss_resolution"] = $"({r.Width}, {r.Height})";
            m["ss_batch_size_per_device"] = Int(c.TrainBatchSize);
        }

        return m;
    }

    /// <summary>
    /// sd-scripts' dataset keys: <c>ss_datasets</c> (each dataset with its subsets), <c>ss_dataset_dirs</c> (training
    /// subsets by folder name, a repeated name numbered " (2)", " (3)", ...; regularisation subsets left out) and
    /// <c>ss_tag_frequency</c> (each dataset's tag counts merged, the first dataset naming a folder kept).
    /// </summary>
    private static (JsonArray Datasets, JsonObject Dirs, JsonObject Tags) DatasetKeys(DatasetSummary summary)
    {
        var dirs = new JsonObject();
        var tags = new JsonObject();
        var datasets = new JsonArray();
        for (var d = 0; d < summary.BatchSizes.Count; d++)
        {
            var options = summary.Options.Count > d ? summary.Options[d] : new DatasetOptions();
            var subsets = new JsonArray();
            var dreambooth = true;
            foreach (var s in summary.Subsets.Where(s => s.DatasetIndex == d))
            {
                var o = options.Subsets.Count > s.SubsetIndex ? options.Subsets[s.SubsetIndex] : new SubsetOptions();
                var name = TagFrequency.FolderName(s.Source);
                var subset = new JsonObject
                {
                    ["img_count"] = s.ImageCount,
                    ["num_repeats"] = s.NumRepeats,
                    ["color_aug"] = o.ColorAug,
                    ["flip_aug"] = o.FlipAug,
                    ["random_crop"] = o.RandomCrop,
                    ["shuffle_caption"] = o.ShuffleCaption,
                    ["keep_tokens"] = o.KeepTokens,
                    ["keep_tokens_separator"] = o.KeepTokensSeparator ?? "",
                    ["secondary_separator"] = o.SecondarySeparator,
                    ["enable_wildcard"] = o.EnableWildcard,
                    ["caption_prefix"] = o.CaptionPrefix,
                    ["caption_suffix"] = o.CaptionSuffix,
                };
                if (o.IsFineTune)
                {
                    dreambooth = false;
                    if (o.ImageDirectory is { } imageDir)
                    {
                        subset["image_dir"] = TagFrequency.FolderName(imageDir);
                    }

                    subset["metadata_file"] = name;
                }
                else
                {
                    subset["image_dir"] = name;
                    subset["class_tokens"] = s.ClassTokens;
                    subset["is_reg"] = s.IsReg;
                }

                subsets.Add(subset);
                if (!s.IsReg)
                {
                    var key = name;
                    for (var i = 2; dirs.ContainsKey(key); i++)
                    {
                        key = $"{name} ({i})";
                    }

                    dirs[key] = new JsonObject { ["n_repeats"] = s.NumRepeats, ["img_count"] = s.ImageCount };
                }
            }

            static JsonObject Counts(IReadOnlyDictionary<string, int> counts) => new(counts.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
            var frequency = new JsonObject();
            foreach (var (folder, counts) in summary.TagFrequencies.Count > d ? summary.TagFrequencies[d] : new Dictionary<string, IReadOnlyDictionary<string, int>>())
            {
                frequency[folder] = Counts(counts);
                if (!tags.ContainsKey(folder))
                {
                    tags[folder] = Counts(counts);
                }
            }

            var resolution = summary.Resolutions.Count > d ? summary.Resolutions[d] : default;
            var buckets = summary.Buckets.Count > d ? summary.Buckets[d] : null;
            datasets.Add(new JsonObject
            {
                ["is_dreambooth"] = dreambooth,
                ["batch_size_per_device"] = summary.BatchSizes[d],
                ["num_train_images"] = summary.TrainImagesWithRepeats,
                ["num_reg_images"] = summary.RegImagesWithRepeats,
                ["resolution"] = new JsonArray(resolution.Width, resolution.Height),
                ["enable_bucket"] = buckets is not null,
                ["min_bucket_reso"] = options.MinBucketReso,
                ["max_bucket_reso"] = options.MaxBucketReso,
                ["tag_frequency"] = frequency,
                ["bucket_info"] = buckets?.ToJsonNode(),
                ["subsets"] = subsets,
            });
        }

        return (datasets, dirs, tags);
    }

    private static string UnixTime(DateTimeOffset t) =>
        (t.ToUnixTimeMilliseconds() / 1000.0).ToString("0.0##", CultureInfo.InvariantCulture);

    private static string Py(double value) => PythonJson.Float(value);

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "True" : "False";
}
