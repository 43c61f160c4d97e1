using System.Text.Json;
using SdTune.Checkpoints;
using SdTune.Models.Clip;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Clip;

/// <summary>
/// The full-size encoders, built on the meta device (no memory), against the state-dict manifests of the
/// real models: same names, same shapes, same order.
/// </summary>
public class ClipTextArchitectureTests
{
    public static TheoryData<string, string> Manifests => new()
    {
        { "clip_l_text.hf.json", nameof(ClipTextConfig.ClipL) },
        { "openclip_h_text_sd2.hf.json", nameof(ClipTextConfig.OpenClipH) },
        { "openclip_bigg_text_sdxl.hf.json", nameof(ClipTextConfig.OpenClipBigG) },
    };

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Full_size_model_has_the_reference_state_dict(string manifestName, string preset)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.Manifest(manifestName)));
        var root = manifest.RootElement;
        var expected = root.GetProperty("tensors").EnumerateArray()
            .Select(t => (Name: t.GetProperty("name").GetString()!, Shape: t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray()))
            .ToList();

        using var model = BuildOnMeta(root.GetProperty("class").GetString()!, Preset(preset));
        var stateDict = model.state_dict();

        Assert.All(stateDict.Values, t => Assert.Equal(DeviceType.META, t.device_type));
        Assert.Equal(expected.Select(e => e.Name), stateDict.Keys);
        foreach (var (name, shape) in expected)
        {
            Assert.True(shape.SequenceEqual(stateDict[name].shape), $"{name}: expected [{string.Join(", ", shape)}], got [{string.Join(", ", stateDict[name].shape)}]");
        }

        Assert.Equal(root.GetProperty("num_parameters").GetInt64(), model.parameters().Sum(p => p.numel()));

        // What the weight loader fills is exactly the state dict.
        Assert.Equal(stateDict.Keys.Order(StringComparer.Ordinal), SdTune.Runtime.ModuleTensors.Of(model).Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Optional_manifest_tensors_are_the_ignorable_keys(string manifestName, string preset)
    {
        _ = preset;
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.Manifest(manifestName)));
        var optional = manifest.RootElement.GetProperty("optional_tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();

        Assert.NotEmpty(optional);
        Assert.All(optional, name => Assert.True(ClipTextEncoder.IsIgnorableKey(name), name));
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Presets_equal_the_published_config_fields(string manifestName, string preset)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.Manifest(manifestName)));
        var published = ClipTextConfig.FromJson(manifest.RootElement.GetProperty("config_key_fields").GetRawText(), manifestName);

        // Token ids are not part of the manifests' config fields; the presets carry the tokenizer's ids.
        var config = Preset(preset);
        Assert.Equal(published with { BosTokenId = config.BosTokenId, EosTokenId = config.EosTokenId, PadTokenId = config.PadTokenId }, config);
    }

    [Fact]
    public void Default_device_meta_also_builds_without_memory()
    {
        set_default_device(META);
        try
        {
            using var model = new ClipTextModelWithProjection(ClipTextConfig.OpenClipBigG);
            Assert.All(model.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        }
        finally
        {
            set_default_device(CPU);
        }
    }

    private static ClipTextConfig Preset(string name) => name switch
    {
        nameof(ClipTextConfig.ClipL) => ClipTextConfig.ClipL,
        nameof(ClipTextConfig.OpenClipH) => ClipTextConfig.OpenClipH,
        nameof(ClipTextConfig.OpenClipBigG) => ClipTextConfig.OpenClipBigG,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    private static ClipTextEncoder BuildOnMeta(string referenceClass, ClipTextConfig config) => referenceClass switch
    {
        "CLIPTextModel" => new ClipTextModel(config, device: META),
        "CLIPTextModelWithProjection" => new ClipTextModelWithProjection(config, device: META),
        _ => throw new ArgumentOutOfRangeException(nameof(referenceClass), referenceClass, null),
    };
}
