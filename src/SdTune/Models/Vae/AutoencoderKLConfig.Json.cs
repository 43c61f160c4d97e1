using System.Text.Json.Nodes;
using SdTune.Models.Layers;

namespace SdTune.Models.Vae;

/// <content>Writing the config as diffusers' <c>vae/config.json</c>.</content>
public sealed partial record AutoencoderKLConfig
{
    /// <summary>
    /// The config as a diffusers <c>AutoencoderKL</c> <c>config.json</c> (with <c>_class_name</c> and
    /// <c>_diffusers_version</c>). <see cref="Parse"/> reads it back to an equal config.
    /// </summary>
    public string ToJson()
    {
        var json = new JsonObject
        {
            ["_class_name"] = "AutoencoderKL",
            ["_diffusers_version"] = ConfigJson.DiffusersVersion,
            ["act_fn"] = "silu",
            ["block_out_channels"] = ConfigJson.Ints(BlockOutChannels),
            ["down_block_types"] = ConfigJson.Strings(DownBlockTypes),
            ["force_upcast"] = ForceUpcast,
            ["in_channels"] = InChannels,
            ["latent_channels"] = LatentChannels,
            ["latents_mean"] = LatentsMean is null ? null : ConfigJson.Doubles(LatentsMean),
            ["latents_std"] = LatentsStd is null ? null : ConfigJson.Doubles(LatentsStd),
            ["layers_per_block"] = LayersPerBlock,
            ["mid_block_add_attention"] = MidBlockAddAttention,
            ["norm_num_groups"] = NormNumGroups,
            ["out_channels"] = OutChannels,
            ["sample_size"] = SampleSize,
            ["scaling_factor"] = ScalingFactor,
            ["shift_factor"] = ShiftFactor,
            ["up_block_types"] = ConfigJson.Strings(UpBlockTypes),
            ["use_post_quant_conv"] = UsePostQuantConv,
            ["use_quant_conv"] = UseQuantConv,
        };
        return ConfigJson.Write(json);
    }
}
