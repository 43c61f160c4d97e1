using System.Text.Json;
using SdTune.Models;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Runtime;

namespace SdTune.Tests.Models;

public class StableDiffusionPresetsTests
{
    public static TheoryData<string, string> Cases() => new()
    {
        { "sd15", "unet_sd15.diffusers.json" },
        { "sd21-v", "unet_sd21_768v.diffusers.json" },
        { "sdxl-base", "unet_sdxl_base.diffusers.json" },
    };

    /// <summary>A preset builds exactly the tensors of the real release (names, shapes, order), on the meta device.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Preset_unet_has_the_manifest_tensors(string preset, string manifest)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.Manifest(manifest)));
        var expected = document.RootElement.GetProperty("tensors").EnumerateArray()
            .Select(t => (t.GetProperty("name").GetString()!, string.Join(",", t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())))).ToList();
        var config = StableDiffusionPresets.Get(preset).Unet;
        using var unet = ModuleMaterializer.OnMeta(() => new UNet2DConditionModel(config));
        var actual = unet.state_dict().Select(kv => (kv.Key, string.Join(",", kv.Value.shape))).ToList();
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Preset_vae_has_the_manifest_tensors_and_sdxl_scaling()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.Manifest("vae_sd.diffusers.json")));
        var expected = document.RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        using var vae = ModuleMaterializer.OnMeta(() => new AutoencoderKL(StableDiffusionPresets.Sd15.Vae));
        Assert.Equal(expected, vae.state_dict().Keys);
        Assert.Equal(0.18215, StableDiffusionPresets.Sd15.Vae.ScalingFactor);
        Assert.Equal(0.13025, StableDiffusionPresets.SdxlBase.Vae.ScalingFactor);
        Assert.Throws<ArgumentException>(() => StableDiffusionPresets.Get("sd3"));
    }
}
