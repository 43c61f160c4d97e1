using System.Text.Json;
using SdTune.Checkpoints.Control;
using SdTune.Checkpoints.SingleFile;
using SdTune.Models.Control;
using SdTune.Models.Unet;

namespace SdTune.Tests.Models.Control;

/// <summary>The full-size SD 1.5 ControlNet against diffusers' manifest, and its original single-file names against the SD 1.5 checkpoint manifest.</summary>
public class ControlNetManifestTests
{
    private static UNet2DConditionConfig Sd15Unet()
    {
        using var manifest = ManifestArchitectureTests.ReadManifest("unet_sd15.diffusers.json");
        return UNet2DConditionConfig.Parse(manifest.RootElement.GetProperty("config_json").GetRawText(), "unet_sd15");
    }

    [Fact]
    public void From_unet_on_the_sd15_config_has_the_manifest_tensors_in_order()
    {
        using var manifest = ManifestArchitectureTests.ReadManifest("controlnet_sd15.diffusers.json");
        var config = Sd15Unet();

        var actual = ManifestArchitectureTests.StateDictOnMeta(() => ControlNetModel.FromUnet(new UNet2DConditionModel(config)));

        ManifestArchitectureTests.AssertSameTensors(manifest.RootElement, actual);
    }

    [Fact]
    public void Config_written_by_from_unet_has_the_manifest_values_and_reads_back()
    {
        using var manifest = ManifestArchitectureTests.ReadManifest("controlnet_sd15.diffusers.json");
        var expected = manifest.RootElement.GetProperty("config_json");
        var config = ControlNetConfig.FromUnet(Sd15Unet());

        using var written = JsonDocument.Parse(config.ToJson());
        foreach (var property in expected.EnumerateObject())
        {
            Assert.True(written.RootElement.TryGetProperty(property.Name, out var value), $"config.json lacks '{property.Name}'");
            Assert.True(SameJson(property.Value, value), $"'{property.Name}': expected {property.Value.GetRawText()}, wrote {value.GetRawText()}");
        }

        var parsed = ControlNetConfig.Parse(expected.GetRawText(), "manifest config_json");
        Assert.Null(Checkpoints.Formats.ConfigComparer.Difference(config.Encoder, parsed.Encoder));
        Assert.Null(Checkpoints.Formats.ConfigComparer.Difference(config with { Encoder = parsed.Encoder }, parsed));
    }

    [Fact]
    public void Original_names_are_the_sd15_unet_encoder_names_plus_hint_zero_and_mid_out_convolutions()
    {
        using var controlnet = ManifestArchitectureTests.ReadManifest("controlnet_sd15.diffusers.json");
        using var checkpoint = ManifestArchitectureTests.ReadManifest("sd15.original.json");
        var diffusers = Tensors(controlnet.RootElement);
        const string Unet = "model.diffusion_model.";
        var expected = Tensors(checkpoint.RootElement)
            .Where(t => t.Key.StartsWith(Unet + "time_embed.", StringComparison.Ordinal) || t.Key.StartsWith(Unet + "input_blocks.", StringComparison.Ordinal)
                || t.Key.StartsWith(Unet + "middle_block.", StringComparison.Ordinal))
            .ToDictionary(t => t.Key[Unet.Length..], t => t.Value);
        long[][] hint = [[16, 3, 3, 3], [16, 16, 3, 3], [32, 16, 3, 3], [32, 32, 3, 3], [96, 32, 3, 3], [96, 96, 3, 3], [256, 96, 3, 3], [320, 256, 3, 3]];
        for (var k = 0; k < hint.Length; k++)
        {
            expected[$"input_hint_block.{2 * k}.weight"] = hint[k];
            expected[$"input_hint_block.{2 * k}.bias"] = [hint[k][0]];
        }

        int[] zeroWidths = [320, 320, 320, 320, 640, 640, 640, 1280, 1280, 1280, 1280, 1280];
        for (var i = 0; i < zeroWidths.Length; i++)
        {
            expected[$"zero_convs.{i}.0.weight"] = [zeroWidths[i], zeroWidths[i], 1, 1];
            expected[$"zero_convs.{i}.0.bias"] = [zeroWidths[i]];
        }

        expected["middle_block_out.0.weight"] = [1280, 1280, 1, 1];
        expected["middle_block_out.0.bias"] = [1280];

        var layout = UnetLayout.FromDiffusers(diffusers.Keys);
        var table = ControlNetKeyMap.Build(layout, 4);
        var mapped = diffusers.ToDictionary(t => table.ToOriginal(t.Key) ?? throw new Xunit.Sdk.XunitException($"no original name for {t.Key}"), t => t.Value);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), mapped.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, e => Assert.Equal(e.Value, mapped[e.Key]));
        Assert.All(diffusers.Keys, name => Assert.Equal(name, table.ToDiffusers(table.ToOriginal(name)!)));
        var fromOriginal = ControlNetKeyMap.Build(UnetLayout.FromOriginal(expected.Keys), ControlNetKeyMap.EmbeddingWidthsFromOriginal(expected.Keys));
        Assert.All(expected.Keys, name => Assert.Equal(name, table.ToOriginal(fromOriginal.ToDiffusers(name)!)));
    }

    [Fact]
    public void Config_derived_from_the_original_sd15_shapes_is_the_manifest_config()
    {
        using var controlnet = ManifestArchitectureTests.ReadManifest("controlnet_sd15.diffusers.json");
        var diffusers = Tensors(controlnet.RootElement);
        var table = ControlNetKeyMap.Build(UnetLayout.FromDiffusers(diffusers.Keys), 4);
        var original = diffusers.ToDictionary(t => table.ToOriginal(t.Key)!, t => t.Value);

        var derived = ControlNetConfigDerivation.Derive(original, "sd15 controlnet");

        var expected = ControlNetConfig.Parse(controlnet.RootElement.GetProperty("config_json").GetRawText(), "manifest");
        Assert.Null(Checkpoints.Formats.ConfigComparer.Difference(expected.Encoder, derived.Encoder));
        Assert.Null(Checkpoints.Formats.ConfigComparer.Difference(expected with { Encoder = derived.Encoder }, derived));
    }

    private static Dictionary<string, long[]> Tensors(JsonElement manifest) =>
        manifest.GetProperty("tensors").EnumerateArray().ToDictionary(
            t => t.GetProperty("name").GetString()!, t => t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), StringComparer.Ordinal);

    private static bool SameJson(JsonElement a, JsonElement b) => (a.ValueKind, b.ValueKind) switch
    {
        (JsonValueKind.Number, JsonValueKind.Number) => a.GetDouble() == b.GetDouble(),
        (JsonValueKind.Array, JsonValueKind.Array) => a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => SameJson(p.First, p.Second)),
        _ => a.GetRawText() == b.GetRawText(),
    };
}
