using SdTune.IO;
using SdTune.Models.Clip;

namespace SdTune.Tests.Models.Clip;

public class ClipTextConfigTests
{
    [Fact]
    public void Reads_the_fixture_config()
    {
        var config = ClipTextConfig.FromJsonFile(ClipTextFixture.ConfigPath);

        Assert.Equal(49408, config.VocabSize);
        Assert.Equal(32, config.HiddenSize);
        Assert.Equal(128, config.IntermediateSize);
        Assert.Equal(16, config.ProjectionDim);
        Assert.Equal(2, config.NumHiddenLayers);
        Assert.Equal(4, config.NumAttentionHeads);
        Assert.Equal(8, config.HeadDim);
        Assert.Equal(77, config.MaxPositionEmbeddings);
        Assert.Equal(ClipActivation.QuickGelu, config.HiddenAct);
        Assert.Equal(1e-5, config.LayerNormEps);
        Assert.Equal(49406, config.BosTokenId);
        Assert.Equal(49407, config.EosTokenId);
        Assert.Equal(49407, config.PadTokenId);
    }

    [Fact]
    public void Reads_the_text_config_of_a_full_CLIPConfig()
    {
        const string json = """
            {
              "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 768,
              "text_config": { "hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                               "num_hidden_layers": 12, "projection_dim": 768, "hidden_act": "gelu",
                               "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1, "model_type": "clip_text_model" },
              "vision_config": { "hidden_size": 1024, "hidden_act": "relu" }
            }
            """;

        var config = ClipTextConfig.FromJson(json);

        Assert.Equal(ClipTextConfig.ClipL with { HiddenAct = ClipActivation.Gelu, BosTokenId = 0, EosTokenId = 2, PadTokenId = 1 }, config);
    }

    [Fact]
    public void Missing_fields_take_the_transformers_defaults_and_null_ids_stay_null()
    {
        var config = ClipTextConfig.FromJson("""{ "hidden_size": 64, "num_attention_heads": 4, "eos_token_id": null }""");

        Assert.Equal(new ClipTextConfig { HiddenSize = 64, NumAttentionHeads = 4, EosTokenId = null }, config);
        Assert.Equal(2048, config.IntermediateSize);
        Assert.Equal(12, config.NumHiddenLayers);
        Assert.Equal(ClipActivation.QuickGelu, config.HiddenAct);
    }

    [Theory]
    [InlineData("""{ "hidden_act": "relu" }""", "'hidden_act'", "relu")]
    [InlineData("""{ "hidden_size": "768" }""", "'hidden_size'", "must be an integer")]
    [InlineData("""{ "num_hidden_layers": 12.5 }""", "'num_hidden_layers'", "must be an integer")]
    [InlineData("""{ "num_hidden_layers": 0 }""", "'num_hidden_layers'", "must be positive")]
    [InlineData("""{ "hidden_size": 768, "num_attention_heads": 10 }""", "'num_attention_heads'", "must divide hidden_size (768)")]
    [InlineData("""{ "layer_norm_eps": "1e-5" }""", "'layer_norm_eps'", "must be a number")]
    [InlineData("""{ "layer_norm_eps": -1 }""", "'layer_norm_eps'", "positive")]
    [InlineData("""{ "model_type": "clip_vision_model" }""", "'model_type'", "clip_vision_model")]
    [InlineData("""{ "text_config": [1, 2] }""", "'text_config'", "must be an object")]
    [InlineData("""{ "text_config": { "intermediate_size": -3 } }""", "'text_config.intermediate_size'", "must be positive")]
    [InlineData("""[1, 2]""", "expected a JSON object", "Array")]
    [InlineData("""{ "hidden_size": 768, """, "not valid JSON", "")]
    public void Invalid_values_are_reported_with_the_field_and_the_source(string json, string field, string detail)
    {
        var error = Assert.Throws<CheckpointFormatException>(() => ClipTextConfig.FromJson(json, "text_encoder/config.json"));

        Assert.StartsWith("text_encoder/config.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Contains(detail, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_errors_name_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("config.json");
        File.WriteAllText(path, """{ "hidden_act": "gelu_new" }""");

        var error = Assert.Throws<CheckpointFormatException>(() => ClipTextConfig.FromJsonFile(path));

        Assert.Equal(path, error.Path);
        Assert.Contains("'hidden_act'", error.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => ClipTextConfig.FromJsonFile(dir.File("missing.json")));
    }

    [Fact]
    public void Models_refuse_an_invalid_config_built_in_code()
    {
        var error = Assert.Throws<ArgumentException>(() => new ClipTextModel(ClipTextConfig.ClipL with { NumAttentionHeads = 7 }, device: TorchSharp.torch.META));

        Assert.Contains("'num_attention_heads'", error.Message, StringComparison.Ordinal);
    }
}
