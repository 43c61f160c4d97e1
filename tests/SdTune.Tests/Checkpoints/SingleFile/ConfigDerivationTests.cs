using System.Text.Json.Nodes;
using SdTune.Checkpoints.SingleFile;

namespace SdTune.Tests.Checkpoints.SingleFile;

/// <summary>Derived diffusers configs against the manifests' resolved configs (the real published config.json values).</summary>
public class ConfigDerivationTests
{
    private static void AssertMatches(JsonObject derived, JsonNode reference, string what, params string[] skip)
    {
        Assert.True(derived.Count >= 10, $"{what}: only {derived.Count} keys derived");
        foreach (var (key, value) in derived)
        {
            if (skip.Contains(key))
            {
                continue;
            }

            var expected = reference[key];
            Assert.True(reference.AsObject().ContainsKey(key), $"{what}: derived key '{key}' is no diffusers config key");
            Assert.True(Manifests.JsonEquals(expected, value), $"{what}.{key}: derived {value?.ToJsonString() ?? "null"}, reference {expected?.ToJsonString() ?? "null"}");
        }
    }

    [Fact]
    public void Sd15_unet_and_vae_configs_equal_the_reference()
    {
        var shapes = Manifests.Shapes("sd15.original.json");
        var d = SingleFileInspector.Detect(shapes);
        AssertMatches(SingleFileInspector.DeriveUnetConfig(shapes, d), Manifests.Load("unet_sd15.diffusers.json")["resolved_config"]!, "sd15 unet");
        AssertMatches(SingleFileInspector.DeriveVaeConfig(shapes, d), Manifests.Load("vae_sd.diffusers.json")["resolved_config"]!, "sd15 vae");
    }

    [Fact]
    public void Sdxl_unet_and_vae_configs_equal_the_reference()
    {
        var shapes = Manifests.Shapes("sdxl_base.original.json");
        var d = SingleFileInspector.Detect(shapes);
        var unet = SingleFileInspector.DeriveUnetConfig(shapes, d);
        AssertMatches(unet, Manifests.Load("unet_sdxl_base.diffusers.json")["resolved_config"]!, "sdxl unet");
        Assert.True(Manifests.JsonEquals(JsonNode.Parse("[1, 2, 10]"), unet["transformer_layers_per_block"]));

        var vae = SingleFileInspector.DeriveVaeConfig(shapes, d);
        var manifest = Manifests.Load("vae_sd.diffusers.json");
        AssertMatches(vae, manifest["resolved_config"]!, "sdxl vae", "scaling_factor", "sample_size");
        Assert.True(Manifests.JsonEquals(manifest["config_json_sdxl"]!["scaling_factor"], vae["scaling_factor"]));
        Assert.True(Manifests.JsonEquals(manifest["config_json_sdxl"]!["sample_size"], vae["sample_size"]));
    }

    [Fact]
    public void Sd2_unet_config_equals_the_reference_when_v_prediction_is_stated()
    {
        var shapes = SingleFileInspectorTests.Sd2Original();
        var d = SingleFileInspector.Detect(shapes, new Dictionary<string, string> { ["modelspec.prediction_type"] = "v" });
        AssertMatches(SingleFileInspector.DeriveUnetConfig(shapes, d), Manifests.Load("unet_sd21_768v.diffusers.json")["resolved_config"]!, "sd21 unet");

        // Without a hint the resolution-dependent sample_size is left out rather than guessed.
        Assert.False(SingleFileInspector.DeriveUnetConfig(shapes, SingleFileInspector.Detect(shapes)).ContainsKey("sample_size"));
    }
}
