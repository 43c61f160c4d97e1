using System.Text.Json;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Models;

/// <summary>
/// Builds the full-size architectures on the meta device (no memory) from the published configs and compares
/// their state dicts with the reference manifests: names, shapes and order.
/// </summary>
public class ManifestArchitectureTests
{
    [Theory]
    [InlineData("unet_sd15.diffusers.json")]
    [InlineData("unet_sd21_768v.diffusers.json")]
    [InlineData("unet_sdxl_base.diffusers.json")]
    public void Full_size_unet_matches_the_manifest(string manifestName)
    {
        using var manifest = ReadManifest(manifestName);
        var config = UNet2DConditionConfig.Parse(manifest.RootElement.GetProperty("config_json").GetRawText(), manifestName);

        var actual = StateDictOnMeta(() => new UNet2DConditionModel(config));

        AssertSameTensors(manifest.RootElement, actual);
    }

    [Theory]
    [InlineData("config_json")]
    [InlineData("config_json_sdxl")]
    public void Full_size_vae_matches_the_manifest(string configKey)
    {
        using var manifest = ReadManifest("vae_sd.diffusers.json");
        var config = AutoencoderKLConfig.Parse(manifest.RootElement.GetProperty(configKey).GetRawText(), configKey);

        var actual = StateDictOnMeta(() => new AutoencoderKL(config));

        AssertSameTensors(manifest.RootElement, actual);
    }

    [Theory]
    [InlineData("unet_sd15.diffusers.json")]
    [InlineData("unet_sd21_768v.diffusers.json")]
    [InlineData("unet_sdxl_base.diffusers.json")]
    public void Unet_config_resolves_like_diffusers(string manifestName)
    {
        using var manifest = ReadManifest(manifestName);
        var config = UNet2DConditionConfig.Parse(manifest.RootElement.GetProperty("config_json").GetRawText(), manifestName);
        var expected = manifest.RootElement.GetProperty("resolved_config");
        var blocks = config.DownBlockTypes.Count;

        Assert.Equal(Int(expected, "sample_size"), config.SampleSize);
        Assert.Equal(Int(expected, "in_channels"), config.InChannels);
        Assert.Equal(Int(expected, "out_channels"), config.OutChannels);
        Assert.Equal(expected.GetProperty("center_input_sample").GetBoolean(), config.CenterInputSample);
        Assert.Equal(expected.GetProperty("flip_sin_to_cos").GetBoolean(), config.FlipSinToCos);
        Assert.Equal(expected.GetProperty("freq_shift").GetDouble(), config.FreqShift);
        Assert.Equal(Strings(expected, "down_block_types"), config.DownBlockTypes);
        Assert.Equal(expected.GetProperty("mid_block_type").GetString(), config.MidBlockType);
        Assert.Equal(Strings(expected, "up_block_types"), config.UpBlockTypes);
        Assert.Equal(PerBlock(expected, "block_out_channels", blocks), config.BlockOutChannels);
        Assert.Equal(PerBlock(expected, "layers_per_block", blocks), config.LayersPerBlock);
        Assert.Equal(Int(expected, "downsample_padding"), config.DownsamplePadding);
        Assert.Equal(expected.GetProperty("mid_block_scale_factor").GetDouble(), config.MidBlockScaleFactor);
        Assert.Equal(expected.GetProperty("dropout").GetDouble(), config.Dropout);
        Assert.Equal(Int(expected, "norm_num_groups"), config.NormNumGroups);
        Assert.Equal(expected.GetProperty("norm_eps").GetDouble(), config.NormEps);
        Assert.Equal(PerBlock(expected, "cross_attention_dim", blocks), config.CrossAttentionDim);
        Assert.Equal(PerBlock(expected, "transformer_layers_per_block", blocks), config.TransformerLayersPerBlock);
        Assert.Equal(PerBlock(expected, "reverse_transformer_layers_per_block", blocks), config.ReverseTransformerLayersPerBlock);
        Assert.Equal(PerBlock(expected, "attention_head_dim", blocks), config.AttentionHeadDim);
        Assert.Equal(PerBlock(expected, "num_attention_heads", blocks), config.NumAttentionHeads);
        Assert.Equal(expected.GetProperty("use_linear_projection").GetBoolean(), config.UseLinearProjection);
        Assert.Equal(expected.GetProperty("upcast_attention").ValueKind == JsonValueKind.True, config.UpcastAttention);
        Assert.Equal(NullableString(expected, "addition_embed_type"), config.AdditionEmbedType);
        Assert.Equal(Int(expected, "addition_time_embed_dim"), config.AdditionTimeEmbedDim);
        Assert.Equal(Int(expected, "projection_class_embeddings_input_dim"), config.ProjectionClassEmbeddingsInputDim);
        Assert.Equal(Int(expected, "time_embedding_dim"), config.TimeEmbeddingDim);
        Assert.Equal(Int(expected, "conv_in_kernel"), config.ConvInKernel);
        Assert.Equal(Int(expected, "conv_out_kernel"), config.ConvOutKernel);
    }

    [Fact]
    public void Sd_heads_resolve_from_attention_head_dim_as_diffusers_does()
    {
        UNet2DConditionConfig Load(string name)
        {
            using var manifest = ReadManifest(name);
            return UNet2DConditionConfig.Parse(manifest.RootElement.GetProperty("config_json").GetRawText(), name);
        }

        // SD1.5: 8 heads everywhere (head dims 40/80/160); SD2.1 and SDXL: head dim 64 everywhere.
        Assert.Equal([8, 8, 8, 8], Load("unet_sd15.diffusers.json").HeadsPerBlock);
        var sd21 = Load("unet_sd21_768v.diffusers.json");
        Assert.All(sd21.HeadsPerBlock.Zip(sd21.BlockOutChannels), p => Assert.Equal(64, p.Second / p.First));
        var sdxl = Load("unet_sdxl_base.diffusers.json");
        Assert.All(sdxl.HeadsPerBlock.Zip(sdxl.BlockOutChannels), p => Assert.Equal(64, p.Second / p.First));
        Assert.True(sdxl.UsesTextTimeConditioning);
    }

    [Theory]
    [InlineData("config_json")]
    [InlineData("config_json_sdxl")]
    public void Vae_config_resolves_like_diffusers(string configKey)
    {
        using var manifest = ReadManifest("vae_sd.diffusers.json");
        var config = AutoencoderKLConfig.Parse(manifest.RootElement.GetProperty(configKey).GetRawText(), configKey);
        var expected = manifest.RootElement.GetProperty("resolved_config");
        var published = manifest.RootElement.GetProperty(configKey);

        Assert.Equal(Int(expected, "in_channels"), config.InChannels);
        Assert.Equal(Int(expected, "out_channels"), config.OutChannels);
        Assert.Equal(Strings(expected, "down_block_types"), config.DownBlockTypes);
        Assert.Equal(Strings(expected, "up_block_types"), config.UpBlockTypes);
        Assert.Equal(PerBlock(expected, "block_out_channels", 4), config.BlockOutChannels);
        Assert.Equal(Int(expected, "layers_per_block"), config.LayersPerBlock);
        Assert.Equal(Int(expected, "latent_channels"), config.LatentChannels);
        Assert.Equal(Int(expected, "norm_num_groups"), config.NormNumGroups);
        Assert.Equal(Int(published, "sample_size"), config.SampleSize);
        Assert.Equal((published.TryGetProperty("scaling_factor", out var s) ? s : expected.GetProperty("scaling_factor")).GetDouble(), config.ScalingFactor);
        Assert.Null(config.ShiftFactor);
        Assert.Null(config.LatentsMean);
        Assert.Null(config.LatentsStd);
        Assert.Equal(expected.GetProperty("force_upcast").GetBoolean(), config.ForceUpcast);
        Assert.Equal(expected.GetProperty("use_quant_conv").GetBoolean(), config.UseQuantConv);
        Assert.Equal(expected.GetProperty("use_post_quant_conv").GetBoolean(), config.UsePostQuantConv);
        Assert.Equal(expected.GetProperty("mid_block_add_attention").GetBoolean(), config.MidBlockAddAttention);
        Assert.Equal(8, config.DownsamplingFactor);
    }

    internal static JsonDocument ReadManifest(string name) => JsonDocument.Parse(File.ReadAllText(TestPaths.Manifest(name)));

    /// <summary>Builds a model with every tensor on the meta device and returns its state dict as (name, shape).</summary>
    internal static List<(string Name, long[] Shape)> StateDictOnMeta(Func<nn.Module> build)
    {
        set_default_device(META);
        try
        {
            using var model = build();
            return [.. model.state_dict().Select(kv =>
            {
                Assert.Equal(DeviceType.META, kv.Value.device_type);
                return (kv.Key, kv.Value.shape);
            })];
        }
        finally
        {
            set_default_device(CPU);
        }
    }

    internal static void AssertSameTensors(JsonElement manifest, List<(string Name, long[] Shape)> actual)
    {
        var expected = manifest.GetProperty("tensors").EnumerateArray()
            .Select(t => (Name: t.GetProperty("name").GetString()!, Shape: t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray()))
            .ToList();
        var actualNames = actual.Select(t => t.Name).ToHashSet();
        var expectedNames = expected.Select(t => t.Name).ToHashSet();
        var missing = expected.Where(t => !actualNames.Contains(t.Name)).Select(t => t.Name).Take(10).ToList();
        var extra = actual.Where(t => !expectedNames.Contains(t.Name)).Select(t => t.Name).Take(10).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0, $"missing: {string.Join(", ", missing)}; unexpected: {string.Join(", ", extra)}");
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Name == actual[i].Name, $"state-dict order differs at {i}: expected {expected[i].Name}, got {actual[i].Name}");
            Assert.True(expected[i].Shape.SequenceEqual(actual[i].Shape),
                $"{expected[i].Name}: expected [{string.Join(", ", expected[i].Shape)}], got [{string.Join(", ", actual[i].Shape)}]");
        }

        var parameters = actual.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b));
        Assert.Equal(manifest.GetProperty("num_parameters").GetInt64(), parameters);
    }

    private static int? Int(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    private static string? NullableString(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static List<string> Strings(JsonElement e, string key) => [.. e.GetProperty(key).EnumerateArray().Select(x => x.GetString()!)];

    private static List<int>? PerBlock(JsonElement e, string key, int blocks)
    {
        var v = e.GetProperty(key);
        return v.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.Array => [.. v.EnumerateArray().Select(x => x.GetInt32())],
            _ => [.. Enumerable.Repeat(v.GetInt32(), blocks)],
        };
    }
}
