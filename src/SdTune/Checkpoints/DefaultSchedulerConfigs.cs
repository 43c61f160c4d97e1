using System.Text.Json.Nodes;
using SdTune.Models;

namespace SdTune.Checkpoints;

/// <summary>
/// The <c>scheduler_config.json</c> each family's reference pipeline ships with, for models loaded from single files
/// (which carry none): SD 1.x PNDM, SD 2.x DDIM, SDXL Euler, all on the scaled-linear 0.00085–0.012 schedule over
/// 1000 training steps.
/// </summary>
internal static class DefaultSchedulerConfigs
{
    public static JsonObject For(SdArchitecture architecture, PredictionType prediction)
    {
        var config = architecture switch
        {
            SdArchitecture.SD1 => new JsonObject
            {
                ["_class_name"] = "PNDMScheduler",
                ["skip_prk_steps"] = true,
                ["set_alpha_to_one"] = false,
                ["clip_sample"] = false,
            },
            SdArchitecture.SD2 => new JsonObject
            {
                ["_class_name"] = "DDIMScheduler",
                ["set_alpha_to_one"] = false,
                ["clip_sample"] = false,
            },
            _ => new JsonObject
            {
                ["_class_name"] = "EulerDiscreteScheduler",
                ["interpolation_type"] = "linear",
                ["timestep_spacing"] = "leading",
                ["use_karras_sigmas"] = false,
                ["sample_max_value"] = 1.0,
            },
        };
        config["_diffusers_version"] = Models.Layers.ConfigJson.DiffusersVersion;
        config["beta_start"] = 0.00085;
        config["beta_end"] = 0.012;
        config["beta_schedule"] = "scaled_linear";
        config["num_train_timesteps"] = 1000;
        config["steps_offset"] = 1;
        config["trained_betas"] = null;
        config["prediction_type"] = PredictionTypes.ToDiffusers(prediction);
        return config;
    }
}
