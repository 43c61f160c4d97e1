using System.Text.Json.Nodes;
using SdTune.Models.Layers;

namespace SdTune.Models.Clip;

/// <content>Writing the config as a transformers <c>CLIPTextConfig</c> <c>config.json</c>.</content>
public sealed partial record ClipTextConfig
{
    /// <summary>
    /// The config as a transformers <c>CLIPTextConfig</c> <c>config.json</c> (<c>model_type</c>
    /// <c>clip_text_model</c>), as the <c>text_encoder</c> folders of diffusers pipelines hold it.
    /// <see cref="FromJson"/> reads it back to an equal config.
    /// </summary>
    /// <param name="withProjection">Name <c>CLIPTextModelWithProjection</c> in <c>architectures</c> (SDXL's second
    /// text encoder) instead of <c>CLIPTextModel</c>.</param>
    public string ToJson(bool withProjection = false)
    {
        var json = new JsonObject
        {
            ["architectures"] = ConfigJson.Strings([withProjection ? "CLIPTextModelWithProjection" : "CLIPTextModel"]),
            ["attention_dropout"] = 0.0,
            ["bos_token_id"] = BosTokenId,
            ["dropout"] = 0.0,
            ["eos_token_id"] = EosTokenId,
            ["hidden_act"] = HiddenAct switch
            {
                ClipActivation.QuickGelu => "quick_gelu",
                ClipActivation.Gelu => "gelu",
                _ => throw new InvalidOperationException($"unknown CLIP activation {HiddenAct}"),
            },
            ["hidden_size"] = HiddenSize,
            ["initializer_factor"] = 1.0,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = IntermediateSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["model_type"] = "clip_text_model",
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["pad_token_id"] = PadTokenId,
            ["projection_dim"] = ProjectionDim,
            ["torch_dtype"] = "float32",
            ["transformers_version"] = ConfigJson.TransformersVersion,
            ["vocab_size"] = VocabSize,
        };
        return ConfigJson.Write(json);
    }
}
