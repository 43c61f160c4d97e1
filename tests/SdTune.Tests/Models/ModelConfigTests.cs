using SdTune.IO;
using SdTune.Models.Unet;
using SdTune.Models.Vae;

namespace SdTune.Tests.Models;

public class ModelConfigTests
{
    [Fact]
    public void Empty_unet_config_takes_the_diffusers_defaults()
    {
        var config = UNet2DConditionConfig.Parse("{}", "config.json");

        Assert.Equal([320, 640, 1280, 1280], config.BlockOutChannels);
        Assert.Equal([1280, 1280, 1280, 1280], config.CrossAttentionDim);
        Assert.Equal([8, 8, 8, 8], config.HeadsPerBlock);
        Assert.Equal(UNet2DConditionConfig.CrossAttnMidBlock, config.MidBlockType);
        Assert.Equal(1280, config.ResolvedTimeEmbeddingDim);
        Assert.False(config.UseLinearProjection);
        Assert.Null(config.AdditionEmbedType);
    }

    [Fact]
    public void Explicit_null_mid_block_type_means_no_mid_block()
    {
        var config = UNet2DConditionConfig.Parse("""{"mid_block_type": null}""", "config.json");

        Assert.Null(config.MidBlockType);
    }

    [Fact]
    public void Num_attention_heads_overrides_attention_head_dim()
    {
        var config = UNet2DConditionConfig.Parse("""{"attention_head_dim": 64, "num_attention_heads": [5, 10, 20, 20]}""", "config.json");

        Assert.Equal([5, 10, 20, 20], config.HeadsPerBlock);
    }

    [Theory]
    [InlineData("""{"down_block_types": ["CrossAttnDownBlock2D", "SimpleCrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]}""", "down_block_types[1]")]
    [InlineData("""{"up_block_types": ["UpBlock2D", "AttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]}""", "up_block_types[1]")]
    [InlineData("""{"mid_block_type": "UNetMidBlock2DSimpleCrossAttn"}""", "mid_block_type")]
    [InlineData("""{"attention_head_dim": [5, 10, 20]}""", "attention_head_dim")]
    [InlineData("""{"attention_head_dim": 7}""", "attention_head_dim[0]")]
    [InlineData("""{"block_out_channels": [320, 640, 1280]}""", "block_out_channels")]
    [InlineData("""{"up_block_types": ["UpBlock2D"]}""", "up_block_types")]
    [InlineData("""{"class_embed_type": "timestep"}""", "class_embed_type")]
    [InlineData("""{"only_cross_attention": true}""", "only_cross_attention")]
    [InlineData("""{"dual_cross_attention": true}""", "dual_cross_attention")]
    [InlineData("""{"resnet_time_scale_shift": "scale_shift"}""", "resnet_time_scale_shift")]
    [InlineData("""{"addition_embed_type": "text"}""", "addition_embed_type")]
    [InlineData("""{"addition_embed_type": "text_time", "projection_class_embeddings_input_dim": 2816}""", "addition_time_embed_dim")]
    [InlineData("""{"transformer_layers_per_block": [[1], [2], [3], [4]]}""", "transformer_layers_per_block")]
    [InlineData("""{"act_fn": "gelu"}""", "act_fn")]
    [InlineData("""{"layers_per_block": "two"}""", "layers_per_block")]
    [InlineData("""{"_class_name": "AutoencoderKL"}""", "_class_name")]
    public void Unsupported_or_invalid_unet_config_names_the_field_and_file(string json, string field)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => UNet2DConditionConfig.Parse(json, "unet/config.json"));

        Assert.Contains($"'{field}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("unet/config.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_json_names_the_file()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => UNet2DConditionConfig.Parse("{ not json", "unet/config.json"));

        Assert.Equal("unet/config.json", e.Path);
    }

    [Fact]
    public void Config_file_is_read_from_disk()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("config.json");
        File.WriteAllText(path, """{"block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "cross_attention_dim": 32, "norm_num_groups": 8, "attention_head_dim": 3}""");

        var e = Assert.Throws<CheckpointFormatException>(() => UNet2DConditionConfig.Load(path));

        Assert.Equal(path, e.Path);
        Assert.Contains("'attention_head_dim[0]'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"down_block_types": ["DownEncoderBlock2D", "DownBlock2D"], "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"], "block_out_channels": [32, 64]}""", "down_block_types[1]")]
    [InlineData("""{"up_block_types": ["AttnUpDecoderBlock2D"]}""", "up_block_types[0]")]
    [InlineData("""{"block_out_channels": [64, 128]}""", "down_block_types")]
    [InlineData("""{"act_fn": "relu"}""", "act_fn")]
    [InlineData("""{"norm_num_groups": 48}""", "block_out_channels[0]")]
    [InlineData("""{"scaling_factor": "big"}""", "scaling_factor")]
    public void Unsupported_or_invalid_vae_config_names_the_field_and_file(string json, string field)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => AutoencoderKLConfig.Parse(json, "vae/config.json"));

        Assert.Contains($"'{field}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("vae/config.json", e.Message, StringComparison.Ordinal);
    }
}
