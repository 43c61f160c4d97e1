using System.Text.Json;
using System.Text.Json.Nodes;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>Config writers: Parse(ToJson(c)) gives c back, on the published full-size configs and the fixtures.</summary>
public class ConfigJsonTests
{
    private static string ManifestConfig(string manifest)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.Manifest(manifest)));
        return document.RootElement.GetProperty("config_json").GetRawText();
    }

    [Theory]
    [InlineData("unet_sd15.diffusers.json")]
    [InlineData("unet_sd21_768v.diffusers.json")]
    [InlineData("unet_sdxl_base.diffusers.json")]
    public void Unet_config_round_trips(string manifest)
    {
        var config = UNet2DConditionConfig.Parse(ManifestConfig(manifest), manifest);
        var json = config.ToJson();
        var again = UNet2DConditionConfig.Parse(json, "written");
        Assert.Null(ConfigComparer.Difference(config, again));
        var node = JsonNode.Parse(json)!;
        Assert.Equal("UNet2DConditionModel", node["_class_name"]!.GetValue<string>());
        Assert.Equal(JsonValueKind.String, node["_diffusers_version"]!.GetValueKind());
    }

    [Fact]
    public void Unet_config_writes_per_block_lists_only_when_they_differ()
    {
        var sd15 = JsonNode.Parse(UNet2DConditionConfig.Parse(ManifestConfig("unet_sd15.diffusers.json"), "sd15").ToJson())!;
        Assert.Equal(8, sd15["attention_head_dim"]!.GetValue<int>());
        Assert.Equal(768, sd15["cross_attention_dim"]!.GetValue<int>());
        var xl = JsonNode.Parse(UNet2DConditionConfig.Parse(ManifestConfig("unet_sdxl_base.diffusers.json"), "xl").ToJson())!;
        Assert.Equal("[1,2,10]", xl["transformer_layers_per_block"]!.ToJsonString());
        Assert.Equal("text_time", xl["addition_embed_type"]!.GetValue<string>());
        Assert.Equal(2816, xl["projection_class_embeddings_input_dim"]!.GetValue<int>());
    }

    [Fact]
    public void Unet_fixture_and_unusual_values_round_trip()
    {
        var fixture = UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json"));
        var unusual = fixture with
        {
            MidBlockType = null,
            NumAttentionHeads = [2, 4],
            ReverseTransformerLayersPerBlock = [3, 1],
            TimeEmbeddingDim = 96,
            UpcastAttention = true,
            FreqShift = 1,
            NormEps = 1e-6,
        };
        foreach (var config in new[] { fixture, unusual, TinyModels.SdxlUnetConfig() })
        {
            Assert.Null(ConfigComparer.Difference(config, UNet2DConditionConfig.Parse(config.ToJson(), "written")));
        }
    }

    [Fact]
    public void Vae_config_round_trips()
    {
        var sd = AutoencoderKLConfig.Parse(ManifestConfig("vae_sd.diffusers.json"), "vae_sd");
        var fixture = AutoencoderKLConfig.Load(TestPaths.Fixture("vae_tiny.config.json"));
        var unusual = fixture with { ShiftFactor = 0.1159, LatentsMean = [0.5, -0.25], LatentsStd = [1.5, 2], UseQuantConv = false, ForceUpcast = false };
        foreach (var config in new[] { sd, fixture, unusual })
        {
            var json = config.ToJson();
            Assert.Null(ConfigComparer.Difference(config, AutoencoderKLConfig.Parse(json, "written")));
            Assert.Equal("AutoencoderKL", JsonNode.Parse(json)!["_class_name"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Clip_text_config_round_trips_with_transformers_keys()
    {
        var fixture = ClipTextConfig.FromJsonFile(TestPaths.Fixture("clip_text_tiny.config.json"));
        var noIds = fixture with { BosTokenId = null, EosTokenId = null, PadTokenId = null };
        foreach (var config in new[] { ClipTextConfig.ClipL, ClipTextConfig.OpenClipH, ClipTextConfig.OpenClipBigG, fixture, noIds })
        {
            Assert.Equal(config, ClipTextConfig.FromJson(config.ToJson(), "written"));
        }

        var plain = JsonNode.Parse(ClipTextConfig.ClipL.ToJson())!;
        Assert.Equal("[\"CLIPTextModel\"]", plain["architectures"]!.ToJsonString());
        Assert.Equal("clip_text_model", plain["model_type"]!.GetValue<string>());
        Assert.Equal("quick_gelu", plain["hidden_act"]!.GetValue<string>());
        var projected = JsonNode.Parse(ClipTextConfig.OpenClipBigG.ToJson(withProjection: true))!;
        Assert.Equal("[\"CLIPTextModelWithProjection\"]", projected["architectures"]!.ToJsonString());
        Assert.Equal("gelu", projected["hidden_act"]!.GetValue<string>());
        Assert.Equal(1280, projected["projection_dim"]!.GetValue<int>());
    }
}
