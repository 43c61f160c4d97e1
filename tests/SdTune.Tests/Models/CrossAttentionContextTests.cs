using SdTune.Models.Unet;
using static TorchSharp.torch;

namespace SdTune.Tests.Models;

/// <summary>The UNet's hook for hypernetworks: the cross-attention context transformed separately for keys and values.</summary>
public class CrossAttentionContextTests
{
    [Fact]
    public void An_identity_transform_changes_nothing_and_a_value_transform_changes_the_output()
    {
        using var model = Training.TrainingTestKit.TinyModel();
        var unet = model.Unet;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator(3);
        var sample = randn([1, 4, 4, 4], generator: generator);
        var context = randn([1, 77, unet.Config.CrossAttentionDim[0]], generator: generator);
        var timestep = tensor(new long[] { 500 });
        var plain = unet.forward(sample, timestep, context);

        var calls = 0;
        unet.CrossAttentionContext = c =>
        {
            calls++;
            return (c, c);
        };
        var identity = unet.forward(sample, timestep, context);
        Assert.True(calls > 0, "the transform was not called");
        Assert.True(plain.equal(identity).all().item<bool>(), "an identity transform changed the output");

        unet.CrossAttentionContext = c => (c, c * 2);
        var doubledValues = unet.forward(sample, timestep, context);
        Assert.False(plain.allclose(doubledValues, rtol: 1e-4, atol: 1e-5), "scaling the value input changed nothing");

        unet.CrossAttentionContext = null;
        Assert.True(plain.equal(unet.forward(sample, timestep, context)).all().item<bool>(), "clearing the transform did not restore the output");
    }
}
