using System.Text.Json.Nodes;
using SdTune.Models.Layers;

namespace SdTune.Models.Unet;

/// <content>Writing the config as diffusers' <c>unet/config.json</c>.</content>
public sealed partial record UNet2DConditionConfig
{
    /// <summary>
    /// The config as a diffusers <c>UNet2DConditionModel</c> <c>config.json</c> (with <c>_class_name</c> and
    /// <c>_diffusers_version</c>). Per-block values that are all equal are written as one number, as the published
    /// configs do. <see cref="Parse"/> reads it back to an equal config.
    /// </summary>
    public string ToJson()
    {
        var json = new JsonObject
        {
            ["_class_name"] = "UNet2DConditionModel",
            ["_diffusers_version"] = ConfigJson.DiffusersVersion,
            ["act_fn"] = "silu",
            ["addition_embed_type"] = AdditionEmbedType,
            ["addition_embed_type_num_heads"] = 64,
            ["addition_time_embed_dim"] = AdditionTimeEmbedDim,
            ["attention_head_dim"] = ConfigJson.IntOrList(AttentionHeadDim),
            ["block_out_channels"] = ConfigJson.Ints(BlockOutChannels),
            ["center_input_sample"] = CenterInputSample,
            ["class_embed_type"] = null,
            ["class_embeddings_concat"] = false,
            ["conv_in_kernel"] = ConvInKernel,
            ["conv_out_kernel"] = ConvOutKernel,
            ["cross_attention_dim"] = ConfigJson.IntOrList(CrossAttentionDim),
            ["cross_attention_norm"] = null,
            ["down_block_types"] = ConfigJson.Strings(DownBlockTypes),
            ["downsample_padding"] = DownsamplePadding,
            ["dropout"] = Dropout,
            ["dual_cross_attention"] = false,
            ["encoder_hid_dim"] = null,
            ["encoder_hid_dim_type"] = null,
            ["flip_sin_to_cos"] = FlipSinToCos,
            ["freq_shift"] = FreqShift,
            ["in_channels"] = InChannels,
            ["layers_per_block"] = ConfigJson.IntOrList(LayersPerBlock),
            ["mid_block_only_cross_attention"] = null,
            ["mid_block_scale_factor"] = MidBlockScaleFactor,
            ["mid_block_type"] = MidBlockType,
            ["norm_eps"] = NormEps,
            ["norm_num_groups"] = NormNumGroups,
            ["num_attention_heads"] = NumAttentionHeads is null ? null : ConfigJson.IntOrList(NumAttentionHeads),
            ["num_class_embeds"] = null,
            ["only_cross_attention"] = false,
            ["out_channels"] = OutChannels,
            ["projection_class_embeddings_input_dim"] = ProjectionClassEmbeddingsInputDim,
            ["resnet_out_scale_factor"] = 1.0,
            ["resnet_skip_time_act"] = false,
            ["resnet_time_scale_shift"] = "default",
            ["reverse_transformer_layers_per_block"] = ReverseTransformerLayersPerBlock is null ? null : ConfigJson.Ints(ReverseTransformerLayersPerBlock),
            ["sample_size"] = SampleSize,
            ["time_cond_proj_dim"] = null,
            ["time_embedding_act_fn"] = null,
            ["time_embedding_dim"] = TimeEmbeddingDim,
            ["time_embedding_type"] = "positional",
            ["timestep_post_act"] = null,
            ["transformer_layers_per_block"] = ConfigJson.IntOrList(TransformerLayersPerBlock),
            ["up_block_types"] = ConfigJson.Strings(UpBlockTypes),
            ["upcast_attention"] = UpcastAttention,
            ["use_linear_projection"] = UseLinearProjection,
        };
        return ConfigJson.Write(json);
    }
}
