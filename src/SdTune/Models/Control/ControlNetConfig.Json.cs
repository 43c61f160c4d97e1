using System.Text.Json.Nodes;
using SdTune.Models.Layers;

namespace SdTune.Models.Control;

/// <content>Writing the config as diffusers' ControlNet <c>config.json</c>.</content>
public sealed partial record ControlNetConfig
{
    /// <summary>The <c>_class_name</c> of diffusers' ControlNet configs.</summary>
    public const string ClassName = "ControlNetModel";

    /// <summary>
    /// The config as a diffusers <c>ControlNetModel</c> <c>config.json</c>, with the keys <c>ControlNetModel.from_unet</c>
    /// writes. <see cref="Parse"/> reads it back to an equal config.
    /// </summary>
    public string ToJson()
    {
        var e = Encoder;
        var json = new JsonObject
        {
            ["_class_name"] = ClassName,
            ["_diffusers_version"] = ConfigJson.DiffusersVersion,
            ["act_fn"] = "silu",
            ["addition_embed_type"] = e.AdditionEmbedType,
            ["addition_embed_type_num_heads"] = 64,
            ["addition_time_embed_dim"] = e.AdditionTimeEmbedDim,
            ["attention_head_dim"] = ConfigJson.IntOrList(e.AttentionHeadDim),
            ["block_out_channels"] = ConfigJson.Ints(e.BlockOutChannels),
            ["class_embed_type"] = null,
            ["conditioning_channels"] = ConditioningChannels,
            ["conditioning_embedding_out_channels"] = ConfigJson.Ints(ConditioningEmbeddingOutChannels),
            ["controlnet_conditioning_channel_order"] = ConditioningChannelOrder,
            ["cross_attention_dim"] = ConfigJson.IntOrList(e.CrossAttentionDim),
            ["down_block_types"] = ConfigJson.Strings(e.DownBlockTypes),
            ["downsample_padding"] = e.DownsamplePadding,
            ["encoder_hid_dim"] = null,
            ["encoder_hid_dim_type"] = null,
            ["flip_sin_to_cos"] = e.FlipSinToCos,
            ["freq_shift"] = e.FreqShift,
            ["global_pool_conditions"] = GlobalPoolConditions,
            ["in_channels"] = e.InChannels,
            ["layers_per_block"] = ConfigJson.IntOrList(e.LayersPerBlock),
            ["mid_block_scale_factor"] = e.MidBlockScaleFactor,
            ["mid_block_type"] = e.MidBlockType,
            ["norm_eps"] = e.NormEps,
            ["norm_num_groups"] = e.NormNumGroups,
            ["num_attention_heads"] = e.NumAttentionHeads is null ? null : ConfigJson.IntOrList(e.NumAttentionHeads),
            ["num_class_embeds"] = null,
            ["only_cross_attention"] = false,
            ["projection_class_embeddings_input_dim"] = e.ProjectionClassEmbeddingsInputDim,
            ["resnet_time_scale_shift"] = "default",
            ["transformer_layers_per_block"] = ConfigJson.IntOrList(e.TransformerLayersPerBlock),
            ["upcast_attention"] = e.UpcastAttention,
            ["use_linear_projection"] = e.UseLinearProjection,
        };
        return ConfigJson.Write(json);
    }
}
