using SdTune.Adapters;
using SdTune.Models.Clip;
using SdTune.Tests.Models.Clip;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Adapters;

public class LoraModuleTests
{
    [Fact]
    public void Hooks_fire_on_every_linear_and_conv_of_the_unet_and_text_encoder()
    {
        using var unet = AdapterTestModels.LoadTinyUNet();
        using var clip = ClipTextFixture.LoadModel();
        var fired = new HashSet<string>(StringComparer.Ordinal);
        var layers = new List<string>();
        foreach (var (model, prefix) in new (nn.Module Model, string Prefix)[] { (unet, "unet."), (clip, "te.") })
        {
            foreach (var (path, layer) in LoraNetwork.AllLayers(model))
            {
                var key = prefix + path;
                layers.Add(key);
                layer.Module.register_forward_hook((_, _, output) =>
                {
                    fired.Add(key);
                    return output;
                });
            }
        }

        AdapterTestModels.Run(unet).Dispose();
        using (no_grad())
        using (var ids = ClipTextFixture.Read("input.input_ids"))
        {
            clip.forward(ids);
        }

        Assert.True(layers.Count > 50);
        Assert.Empty(layers.Except(fired));
    }

    [Fact]
    public void Fresh_network_leaves_the_unet_output_identical_and_detach_restores_it()
    {
        using var unet = AdapterTestModels.LoadTinyUNet();
        using var reference = AdapterTestModels.Run(unet);
        using var network = LoraNetwork.Create(new LoraTargets(unet, null), new LoraNetworkOptions { Dim = 4, Alpha = 1, ConvDim = 2 });
        Assert.Contains(network.Entries, e => e.Module.Target.IsSpatialConv);
        network.Attach();
        using (var withLora = AdapterTestModels.Run(unet))
        {
            Assert.Equal(0.0, AdapterTestModels.MaxAbs(reference, withLora));
        }

        // Non-zero up weights change the output; detaching restores it bit for bit.
        using (no_grad())
        {
            foreach (var e in network.Entries)
            {
                ((LoraModule)e.Module).UpWeight.normal_(0, 0.1);
            }
        }

        using (var changed = AdapterTestModels.Run(unet))
        {
            Assert.True(AdapterTestModels.MaxAbs(reference, changed) > 1e-3);
        }

        network.Detach();
        using var restored = AdapterTestModels.Run(unet);
        Assert.Equal(0.0, AdapterTestModels.MaxAbs(reference, restored));
        Assert.All(unet.named_parameters(), p => Assert.DoesNotContain("lora", p.name, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(true, 3)]
    public void Hook_output_equals_the_layer_with_W_plus_scale_up_down(bool conv, int kernel)
    {
        using var scope = NewDisposeScope();
        nn.Module<Tensor, Tensor> layer = conv ? nn.Conv2d(6, 10, kernel, stride: 2, padding: kernel / 2) : nn.Linear(12, 10);
        var input = conv ? randn(2, 6, 7, 7) : randn(3, 4, 12);
        using var module = new LoraModule(AdaptedLayer.TryCreate(layer)!, new AdapterSettings(3, 1.5));
        module.Multiplier = 0.7;
        using (no_grad())
        {
            module.UpWeight.normal_();
        }

        var weight = layer is Conv2d c ? c.weight : ((Linear)layer).weight;
        var bias = layer is Conv2d c2 ? c2.bias! : ((Linear)layer).bias!;
        var explicitDelta = module.UpWeight.flatten(1).matmul(module.DownWeight.flatten(1)).reshape(weight.shape) * (1.5 / 3) * 0.7;
        var expected = conv
            ? nn.functional.conv2d(input, weight + explicitDelta, bias, [2, 2], [kernel / 2, kernel / 2])
            : nn.functional.linear(input, weight + explicitDelta, bias);

        module.Attach();
        Assert.True(AdapterTestModels.MaxAbs(layer.call(input), expected) < 1e-5);
        module.Detach();

        // Merging bakes the same delta into the weight, and unmerging takes it out again.
        var original = weight.detach().clone();
        module.Merge();
        Assert.True(AdapterTestModels.MaxAbs(layer.call(input), expected) < 1e-5);
        module.Unmerge();
        Assert.True(AdapterTestModels.MaxAbs(weight, original) < 1e-6);
    }

    [Fact]
    public void Alpha_zero_or_missing_means_rank_and_init_is_kaiming_down_zero_up()
    {
        using var layer = nn.Linear(64, 32);
        using var module = new LoraModule(AdaptedLayer.TryCreate(layer)!, new AdapterSettings(8, 0));
        Assert.Equal(8.0, module.Alpha);
        Assert.Equal(1.0, module.Scale);
        Assert.Equal(0.0, module.UpWeight.abs().max().item<float>());
        var bound = 1.0 / Math.Sqrt(64); // kaiming_uniform(a=√5): bound = sqrt(6 / ((1 + 5) · fan_in))
        Assert.True(module.DownWeight.abs().max().item<float>() <= bound + 1e-7);
        Assert.True(module.DownWeight.abs().max().item<float>() > bound * 0.8);
    }

    [Fact]
    public void Rank_and_module_dropout_act_only_in_training()
    {
        using var scope = NewDisposeScope();
        using var layer = nn.Linear(16, 16);
        using var module = new LoraModule(AdaptedLayer.TryCreate(layer)!, new AdapterSettings(4, 4, RankDropout: 0.5));
        using (no_grad())
        {
            module.UpWeight.normal_();
        }

        var x = randn(64, 3, 16);
        module.eval();
        var full = module.forward(x);
        var again = module.forward(x);
        Assert.Equal(0.0, AdapterTestModels.MaxAbs(full, again));

        module.train();
        manual_seed(1);
        var dropped = module.forward(x);
        Assert.True(AdapterTestModels.MaxAbs(full, dropped) > 1e-3);
        // Rank dropout rescales by 1/(1-p): the mean over many samples stays close to the full output.
        Assert.True(AdapterTestModels.MaxAbs(full.mean([0]), dropped.mean([0])) < full.abs().mean().item<float>());

        using var skipAll = new LoraModule(AdaptedLayer.TryCreate(layer)!, new AdapterSettings(4, 4, ModuleDropout: 0.999));
        using (no_grad())
        {
            skipAll.UpWeight.normal_();
        }

        skipAll.Attach();
        skipAll.train();
        Assert.Equal(0.0, AdapterTestModels.MaxAbs(layer.call(x), nn.functional.linear(x, layer.weight, layer.bias)));
        skipAll.eval();
        Assert.True(AdapterTestModels.MaxAbs(layer.call(x), nn.functional.linear(x, layer.weight, layer.bias)) > 1e-3);
    }
}
