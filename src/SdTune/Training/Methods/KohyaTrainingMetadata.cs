using System.Globalization;
using System.Text.Json.Nodes;
using SdTune.Adapters.Formats;

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
            var dirs = new JsonObject();
            var datasets = new JsonArray();
            for (var d = 0; d < summary.BatchSizes.Count; d++)
            {
                var subsets = new JsonArray();
                foreach (var s in summary.Subsets.Where(s => s.DatasetIndex == d))
                {
                    var name = Path.GetFileName(s.Source.TrimEnd('/', '\\'));
                    dirs[name] = new JsonObject { ["n_repeats"] = s.NumRepeats, ["img_count"] = s.ImageCount };
                    subsets.Add(new JsonObject
                    {
                        ["img_count"] = s.ImageCount,
                        ["num_repeats"] = s.NumRepeats,
                        ["image_dir"] = name,
                        ["class_tokens"] = s.ClassTokens,
                        ["is_reg"] = s.IsReg,
                    });
                }

                var resolution = summary.Resolutions.Count > d ? summary.Resolutions[d] : default;
                datasets.Add(new JsonObject
                {
                    ["is_dreambooth"] = true,
                    ["batch_size_per_device"] = summary.BatchSizes[d],
                    ["num_train_images"] = summary.TrainImagesWithRepeats,
                    ["num_reg_images"] = summary.RegImagesWithRepeats,
                    ["resolution"] = new JsonArray(resolution.Width, resolution.Height),
                    ["enable_bucket"] = summary.Buckets.Count > d && summary.Buckets[d] is not null,
                    ["subsets"] = subsets,
                });
            }

            m["ss_datasets"] = datasets.ToJsonString();
            m["ss_dataset_dirs"] = dirs.ToJsonString();
        }
        else
        {
            var r = info.Resolution;
            m["ss_resolution"] = $"({r.Width}, {r.Height})";
            m["ss_batch_size_per_device"] = Int(c.TrainBatchSize);
        }

        return m;
    }

    private static string UnixTime(DateTimeOffset t) =>
        (t.ToUnixTimeMilliseconds() / 1000.0).ToString("0.0##", CultureInfo.InvariantCulture);

    private static string Py(double value) => KohyaLoraFormat.PythonFloat(value);

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "True" : "False";
}
