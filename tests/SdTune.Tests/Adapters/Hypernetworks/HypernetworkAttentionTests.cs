using SdTune.Adapters.Hypernetworks;
using SdTune.Tests.Training;
using static TorchSharp.torch;

namespace SdTune.Tests.Adapters.Hypernetworks;

/// <summary>Hypernetworks on the UNet's attention: cross- and self-attention contexts, chaining, detaching.</summary>
public sealed class HypernetworkAttentionTests
{
    private static Hypernetwork Network(long[] widths, double scale, string activation = "linear")
    {
        manual_seed(3);
        var network = new Hypernetwork(widths, new HypernetworkSettings { Activation = activation });
        using var noGrad = no_grad();
        foreach (var (_, p) in network.named_parameters())
        {
            p.mul_(scale * 100); // from N(0, 0.01) to N(0, scale)
        }

        network.eval();
        return network;
    }

    [Fact]
    public void Self_attention_contexts_go_through_the_transform_by_their_width()
    {
        using var model = TrainingTestKit.TinyModel();
        var unet = model.Unet;
        // The tiny UNet: text 32 wide, self-attention on 32 channels (outer blocks) and 64 (mid block).
        Assert.Equal([32L, 64L], unet.AttentionContextWidths);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(3);
        var sample = randn([1, 4, 8, 8], generator: generator);
        var context = randn([1, 77, 32], generator: generator);
        var timestep = tensor(new long[] { 500 });
        var seen = new List<(long Tokens, long Width)>();
        unet.CrossAttentionContext = c =>
        {
            seen.Add((c.shape[1], c.shape[2]));
            return (c, c);
        };
        _ = unet.forward(sample, timestep, context);
        unet.CrossAttentionContext = null;
        Assert.Contains((77L, 32L), seen);                        // cross-attention: the text
        Assert.Contains(seen, s => s.Width == 64 && s.Tokens != 77); // self-attention in the mid block
        Assert.Contains(seen, s => s.Width == 32 && s.Tokens != 77); // self-attention in the outer blocks
    }

    [Fact]
    public void Zero_output_layers_change_nothing_and_each_width_alone_changes_the_output()
    {
        using var model = TrainingTestKit.TinyModel();
        var unet = model.Unet;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(4);
        var sample = randn([1, 4, 8, 8], generator: generator);
        var context = randn([1, 77, 32], generator: generator);
        var timestep = tensor(new long[] { 300 });
        var plain = unet.forward(sample, timestep, context);

        using var zero = Network([32, 64], 0.5, "relu");
        foreach (var width in zero.Widths)
        {
            zero[width].Key.state_dict()["linear.2.weight"].zero_();
            zero[width].Key.state_dict()["linear.2.bias"].zero_();
            zero[width].Value.state_dict()["linear.2.weight"].zero_();
            zero[width].Value.state_dict()["linear.2.bias"].zero_();
        }

        using (HypernetworkChain.Attach(unet, [zero]))
        {
            Assert.True(plain.equal(unet.forward(sample, timestep, context)).all().item<bool>(), "zero output layers changed the output");
        }

        foreach (var width in new long[] { 32, 64 })
        {
            using var network = Network([width], 0.5);
            using (HypernetworkChain.Attach(unet, [network]))
            {
                Assert.False(plain.allclose(unet.forward(sample, timestep, context), rtol: 1e-4, atol: 1e-5), $"the {width} pair changed nothing");
                network.Multiplier = 0;
                Assert.True(plain.equal(unet.forward(sample, timestep, context)).all().item<bool>(), "strength 0 changed the output");
            }
        }

        // A width the model lacks passes the context unchanged; detaching restores the plain UNet.
        using var foreign = Network([768, 320], 0.5);
        using (HypernetworkChain.Attach(unet, [foreign]))
        {
            Assert.True(plain.equal(unet.forward(sample, timestep, context)).all().item<bool>());
        }

        Assert.Null(unet.CrossAttentionContext);
        Assert.True(plain.equal(unet.forward(sample, timestep, context)).all().item<bool>());
    }

    [Fact]
    public void Chained_hypernetworks_apply_in_turn()
    {
        using var first = Network([8], 0.3, "tanh");
        using var second = Network([8], 0.2, "relu");
        second.Multiplier = 0.7;
        using var model = TrainingTestKit.TinyModel();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(2, 5, 8);
        var y = randn(2, 5, 8);
        using var chain = HypernetworkChain.Attach(model.Unet, [first, second]);
        var (k, v) = model.Unet.CrossAttentionContext!(x);
        Assert.True(k.allclose(second[8].Key.forward(first[8].Key.forward(x))));
        Assert.True(v.allclose(second[8].Value.forward(first[8].Value.forward(x))));
        Assert.False(k.allclose(v));

        // The pair is chosen by the key input's width; the value input follows it.
        var (k2, v2) = first.Apply(x, y);
        Assert.True(v2.allclose(first[8].Value.forward(y)));
        Assert.True(k2.allclose(first[8].Key.forward(x)));
    }
}
