using System.Text.Json;
using SdTune.Adapters;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Runtime;

namespace SdTune.Tests.Adapters;

/// <summary>Module names, wrapped paths and tensor shapes of full-size SD 1.5 networks against sd-scripts' own.</summary>
public class LoraNamingTests
{
    [Theory]
    [InlineData("lora_names_sd15_default.json", null, 72, 192)]
    [InlineData("lora_names_sd15_conv.json", 4, 72, 278)]
    public void Sd15_network_matches_kohya_names_paths_and_shapes(string fixture, int? convDim, int teCount, int unetCount)
    {
        using var unet = ModuleMaterializer.OnMeta(() => new UNet2DConditionModel(StableDiffusionPresets.Sd15.Unet));
        using var te = ModuleMaterializer.OnMeta(() => new ClipTextModel(ClipTextConfig.ClipL));
        var options = new LoraNetworkOptions { Dim = 4, Alpha = 1, ConvDim = convDim, ConvAlpha = convDim is null ? null : 1 };
        using var network = ModuleMaterializer.OnMeta(() => LoraNetwork.Create(new LoraTargets(unet, te), options));

        using var json = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(fixture)));
        var expected = json.RootElement.GetProperty("modules").EnumerateArray().ToList();
        Assert.Equal(teCount, network.Entries.Count(e => e.Component == LoraComponent.TextEncoder));
        Assert.Equal(unetCount, network.Entries.Count(e => e.Component == LoraComponent.Unet));
        Assert.Equal(expected.Count, network.Entries.Count);

        var byName = network.Entries.ToDictionary(e => e.Name);
        var actualKeys = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var expectedKeyCount = 0;
        foreach (var module in expected)
        {
            var name = module.GetProperty("name").GetString()!;
            Assert.True(byName.TryGetValue(name, out var entry), $"missing module {name}");
            Assert.Equal(module.GetProperty("module").GetString(), entry.ModulePath);
            Assert.Equal(module.GetProperty("model").GetString() == "te" ? LoraComponent.TextEncoder : LoraComponent.Unet, entry.Component);
            Assert.Equal(module.GetProperty("type").GetString() == "Conv2d", entry.Module.Target.IsConv);
            foreach (var key in module.GetProperty("keys").EnumerateObject())
            {
                expectedKeyCount++;
                Assert.True(actualKeys.TryGetValue(key.Name, out var shape), $"missing tensor {key.Name}");
                Assert.Equal(key.Value.EnumerateArray().Select(v => v.GetInt64()).ToArray(), shape);
            }
        }

        Assert.Equal(expectedKeyCount, actualKeys.Count);
    }

    [Fact]
    public void Sdxl_unet_names_use_the_original_layout()
    {
        using var unet = ModuleMaterializer.OnMeta(() => new UNet2DConditionModel(StableDiffusionPresets.SdxlBase.Unet));
        using var te1 = ModuleMaterializer.OnMeta(() => new ClipTextModel(ClipTextConfig.ClipL));
        using var te2 = ModuleMaterializer.OnMeta(() => new ClipTextModelWithProjection(ClipTextConfig.OpenClipBigG));
        using var network = ModuleMaterializer.OnMeta(() => LoraNetwork.Create(new LoraTargets(unet, te1, te2), new LoraNetworkOptions { ConvDim = 4 }));
        var shapes = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

        // Examples and counts from the kohya format reference (§2.2, §2.3), r = 4, c = 4.
        Assert.Equal(72, network.Entries.Count(e => e.Component == LoraComponent.TextEncoder));
        Assert.Equal(192, network.Entries.Count(e => e.Component == LoraComponent.TextEncoder2));
        Assert.Equal(722, network.Entries.Count(e => e.Component == LoraComponent.Unet && !IsConvBlock(e.ModulePath)));
        Assert.Equal([4L, 640], shapes["lora_unet_input_blocks_4_1_proj_in.lora_down.weight"]);
        Assert.Equal([4L, 640], shapes["lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q.lora_down.weight"]);
        Assert.Equal([4L, 2048], shapes["lora_unet_input_blocks_7_1_transformer_blocks_9_attn2_to_k.lora_down.weight"]);
        Assert.Equal([10240L, 4], shapes["lora_unet_middle_block_1_transformer_blocks_0_ff_net_0_proj.lora_up.weight"]);
        Assert.Equal([1280L, 4], shapes["lora_unet_output_blocks_0_1_transformer_blocks_0_attn1_to_out_0.lora_up.weight"]);
        Assert.Equal([4L, 320, 3, 3], shapes["lora_unet_input_blocks_1_0_in_layers_2.lora_down.weight"]);
        Assert.Equal([4L, 1280], shapes["lora_unet_input_blocks_1_0_emb_layers_1.lora_down.weight"]);
        Assert.Equal([4L, 320, 3, 3], shapes["lora_unet_input_blocks_3_0_op.lora_down.weight"]);
        Assert.Equal([4L, 1280, 3, 3], shapes["lora_unet_output_blocks_2_2_conv.lora_down.weight"]);
        Assert.Equal([4L, 768], shapes["lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight"]);
        Assert.Equal([5120L, 4], shapes["lora_te2_text_model_encoder_layers_31_mlp_fc1.lora_up.weight"]);
        Assert.DoesNotContain(network.Entries, e => e.Component == LoraComponent.Unet && e.Name.Contains("down_blocks", StringComparison.Ordinal));
    }

    private static bool IsConvBlock(string path) =>
        path.Contains(".resnets.", StringComparison.Ordinal) || path.Contains("samplers.", StringComparison.Ordinal);
}
