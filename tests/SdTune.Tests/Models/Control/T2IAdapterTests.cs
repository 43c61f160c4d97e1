using SdTune.Models.Control;
using SdTune.Models.Unet;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Control;

/// <summary>T2I-Adapter shapes and names as diffusers documents them, and its features in the UNet.</summary>
public class T2IAdapterTests
{
    [Theory]
    // full_adapter: one feature per width, the first at 1/8, each next one halved.
    [InlineData(T2IAdapterConfig.FullAdapter, 8, new[] { 32, 64, 128, 128 }, new[] { 8, 4, 2, 1 }, 64)]
    // full_adapter_xl: SDXL's [320@/16, 640@/16, 1280@/32, 1280@/32] pattern.
    [InlineData(T2IAdapterConfig.FullAdapterXl, 16, new[] { 32, 64, 128, 128 }, new[] { 4, 4, 2, 2 }, 32)]
    // light_adapter: one more feature than widths, the extra one at the last width, halved again.
    [InlineData(T2IAdapterConfig.LightAdapter, 8, new[] { 32, 64, 128 }, new[] { 8, 4, 2, 1 }, 64)]
    public void Features_have_the_documented_widths_and_sizes(string type, int downscale, int[] channels, int[] sizes, int total)
    {
        manual_seed(1);
        using var adapter = new T2IAdapter(new T2IAdapterConfig { AdapterType = type, Channels = channels, DownscaleFactor = downscale });
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var features = adapter.forward(rand(2, 3, 64, 64));

        int[] widths = type == T2IAdapterConfig.LightAdapter ? [.. channels, channels[^1]] : channels;
        Assert.Equal(widths.Length, features.Count);
        for (var k = 0; k < widths.Length; k++)
        {
            Assert.Equal([2, widths[k], sizes[k], sizes[k]], features[k].shape);
        }

        Assert.Equal(total, adapter.TotalDownscaleFactor);
        Assert.Equal(64 / total, features[^1].shape[2]);
    }

    [Fact]
    public void State_dict_names_and_shapes_follow_diffusers()
    {
        using var full = new T2IAdapter(new T2IAdapterConfig { Channels = [32, 64], NumResBlocks = 2, InChannels = 1 });
        using var light = new T2IAdapter(new T2IAdapterConfig { Channels = [32, 64], NumResBlocks = 1, AdapterType = T2IAdapterConfig.LightAdapter });
        var f = full.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);
        var l = light.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);

        Assert.Equal([32, 64, 3, 3], f["adapter.conv_in.weight"]);
        Assert.Equal([32, 32, 3, 3], f["adapter.body.0.resnets.1.block1.weight"]);
        Assert.Equal([32, 32, 1, 1], f["adapter.body.0.resnets.1.block2.weight"]);
        Assert.Equal([64, 32, 1, 1], f["adapter.body.1.in_conv.weight"]);
        Assert.DoesNotContain("adapter.body.0.in_conv.weight", f.Keys);
        Assert.Equal(2 + (2 * 2 * 4) + 2, f.Count);

        Assert.Equal([8, 192, 1, 1], l["adapter.body.0.in_conv.weight"]);
        Assert.Equal([8, 8, 3, 3], l["adapter.body.0.resnets.0.block2.weight"]);
        Assert.Equal([32, 8, 1, 1], l["adapter.body.0.out_conv.weight"]);
        Assert.Equal([16, 64, 1, 1], l["adapter.body.2.in_conv.weight"]);
        Assert.DoesNotContain("adapter.conv_in.weight", l.Keys);
    }

    [Fact]
    public void Full_adapter_matches_an_independent_computation()
    {
        manual_seed(2);
        using var adapter = new T2IAdapter(new T2IAdapterConfig { Channels = [16, 32], NumResBlocks = 1, DownscaleFactor = 4 });
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var image = rand(1, 3, 12, 12);
        var w = adapter.state_dict().ToDictionary(p => p.Key, p => p.Value.to(ScalarType.Float64));
        Tensor Conv(Tensor x, string name, long padding) => nn.functional.conv2d(x, w[name + ".weight"], w[name + ".bias"], padding: [padding, padding]);
        Tensor Resnet(Tensor x, string name) => x + Conv(nn.functional.relu(Conv(x, name + ".block1", 1)), name + ".block2", 0);

        // Pixel-unshuffle by hand: channel c*16 + i*4 + j holds pixel (4y + i, 4x + j) of channel c.
        var unshuffled = image.to(ScalarType.Float64).reshape(1, 3, 3, 4, 3, 4).permute(0, 1, 3, 5, 2, 4).reshape(1, 48, 3, 3);
        var first = Resnet(Conv(unshuffled, "adapter.conv_in", 1), "adapter.body.0.resnets.0");
        // 2x2 average pooling with a partial last window (ceil mode): 3x3 -> 2x2, the edge windows average what they cover.
        var padded = nn.functional.pad(first, [0, 1, 0, 1]);
        var counts = nn.functional.pad(ones(1, 1, 3, 3, ScalarType.Float64), [0, 1, 0, 1]);
        var pooled = nn.functional.avg_pool2d(padded, 2, 2, divisor_override: 1) / nn.functional.avg_pool2d(counts, 2, 2, divisor_override: 1);
        var second = Resnet(Conv(pooled, "adapter.body.1.in_conv", 0), "adapter.body.1.resnets.0");

        var features = adapter.forward(image);

        Assert.True((features[0].to(ScalarType.Float64) - first).abs().max().item<double>() < 1e-5);
        Assert.True((features[1].to(ScalarType.Float64) - second).abs().max().item<double>() < 1e-5);
    }

    [Fact]
    public void Adapter_features_change_the_unet_output_and_reach_the_skip_of_a_block_without_attention()
    {
        using var unet = ControlNetBehaviourTests.FixtureUnet();
        manual_seed(3);
        using var adapter = new T2IAdapter(new T2IAdapterConfig { Channels = [32, 64], NumResBlocks = 1 });
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sample = randn(2, 4, 16, 16);
        var context = randn(2, 5, 32);
        var features = adapter.forward(rand(2, 3, 128, 128));

        var plain = unet.forward(sample, 500.0, context);
        var adapted = unet.forward(sample, 500.0, context, downIntrablockAdditionalResiduals: features);
        Assert.True((adapted - plain).abs().max().item<float>() > 1e-3);

        // In the attention-free last block the feature is added to the output, which is also the block's last skip
        // (diffusers adds it in place to that one tensor); in the cross-attention block, before the skip is stored.
        var parts = unet.named_children().ToDictionary(c => c.name, c => c.module);
        var blocks = (TorchSharp.Modules.ModuleList<UNetDownBlock>)parts["down_blocks"];
        var emb = UNetInputs.TimeEmbedding((SdTune.Models.Layers.Timesteps)parts["time_proj"], (SdTune.Models.Layers.TimestepEmbedding)parts["time_embedding"], null, null, sample, tensor(500.0), null);
        var hidden = randn(2, 32, 8, 8);
        var (without, withoutSkips) = blocks[1].forward(hidden, emb, context, null);
        var (with, withSkips) = blocks[1].forward(hidden, emb, context, features[1]);
        Assert.True((with - (without + features[1])).abs().max().item<float>() < 1e-6);
        Assert.True(with.eq(withSkips[^1]).all().item<bool>());
        Assert.True(withoutSkips[0].eq(withSkips[0]).all().item<bool>());
        var input = randn(2, 32, 16, 16);
        var (_, plainSkips) = blocks[0].forward(input, emb, context, null);
        var (attended, attendedSkips) = blocks[0].forward(input, emb, context, features[0]);
        Assert.True(plainSkips[0].eq(attendedSkips[0]).all().item<bool>());
        Assert.True((attendedSkips[1] - (plainSkips[1] + features[0])).abs().max().item<float>() < 1e-6);
        Assert.Equal([2, 32, 8, 8], attended.shape);
    }

    [Fact]
    public void Bad_images_and_adapters_for_another_unet_give_clear_errors()
    {
        using var unet = ControlNetBehaviourTests.FixtureUnet();
        using var adapter = new T2IAdapter(new T2IAdapterConfig { Channels = [32, 64, 64], NumResBlocks = 1 });
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        Assert.Contains("in_channels", Assert.Throws<ArgumentException>(() => adapter.forward(rand(1, 1, 64, 64))).Message, StringComparison.Ordinal);
        Assert.Contains("downscale_factor 8", Assert.Throws<ArgumentException>(() => adapter.forward(rand(1, 3, 60, 64))).Message, StringComparison.Ordinal);
        Assert.Contains("channels", Assert.Throws<ArgumentException>(() => new T2IAdapter(new T2IAdapterConfig { Channels = [] })).Message, StringComparison.Ordinal);

        var features = adapter.forward(rand(1, 3, 128, 128));
        var extra = Assert.Throws<ArgumentException>(() => unet.forward(randn(1, 4, 16, 16), 10.0, randn(1, 5, 32), downIntrablockAdditionalResiduals: features));
        Assert.Contains("downIntrablockAdditionalResiduals holds 3 features, but this UNet takes 2", extra.Message, StringComparison.Ordinal);
        var wrong = Assert.Throws<ArgumentException>(() => unet.forward(randn(1, 4, 16, 16), 10.0, randn(1, 5, 32), downIntrablockAdditionalResiduals: [features[1]]));
        Assert.Contains("downIntrablockAdditionalResiduals", wrong.Message, StringComparison.Ordinal);
    }
}
