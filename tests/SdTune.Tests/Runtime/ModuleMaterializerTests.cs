using SdTune.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Runtime;

public class ModuleMaterializerTests
{
    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        private readonly Linear proj;
        private readonly Conv2d conv;
        private readonly GroupNorm norm;
        private readonly LayerNorm layerNorm;
        private readonly Embedding embedding;
        private readonly Parameter scale;
        private readonly Tensor offsets;

        public Block() : base(nameof(Block))
        {
            proj = nn.Linear(4, 4);
            conv = nn.Conv2d(4, 4, 3, padding: 1);
            norm = nn.GroupNorm(2, 4);
            layerNorm = nn.LayerNorm(4);
            embedding = nn.Embedding(10, 4);
            scale = new Parameter(torch.ones(4));
            offsets = torch.zeros(4);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var h = conv.call(x.reshape(1, 4, 1, 1).expand(1, 4, 3, 3));
            h = norm.call(h).mean([2L, 3L]);
            return layerNorm.call(proj.call(h) * scale + offsets) + embedding.call(torch.tensor(new long[] { 1 })).squeeze(0);
        }
    }

    [Fact]
    public void Meta_built_module_becomes_usable_after_materialising_and_filling()
    {
        var onMeta = ModuleMaterializer.OnMeta(() => new Block());
        Assert.All(onMeta.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        var names = onMeta.state_dict().Keys.ToList();

        ModuleMaterializer.MaterializeEmpty(onMeta);
        Assert.All(onMeta.parameters(), p => Assert.Equal(DeviceType.CPU, p.device_type));
        Assert.Equal(names, onMeta.state_dict().Keys.ToList());

        // Fill from a normally built twin: the forward pass must then agree exactly (so the fields were replaced too).
        var reference = new Block();
        using (torch.no_grad())
        {
            // Deterministic values everywhere (TorchSharp leaves GroupNorm's weight and bias uninitialised).
            var generator = new Generator(7);
            foreach (var (_, tensor) in reference.state_dict())
            {
                tensor.copy_(torch.randn(tensor.shape, generator: generator));
            }

            var source = reference.state_dict();
            foreach (var (name, tensor) in onMeta.state_dict())
            {
                tensor.copy_(source[name]);
            }
        }

        using var input = torch.randn(4, generator: new Generator(3));
        using var expected = reference.call(input);
        using var actual = onMeta.call(input);
        Assert.True(expected.allclose(actual), "materialised module computes differently from its twin");
        Assert.True(onMeta.parameters().All(p => p.requires_grad));
    }

    [Fact]
    public void Materialising_can_change_the_floating_point_type()
    {
        var module = ModuleMaterializer.OnMeta(() => nn.Linear(3, 2));
        ModuleMaterializer.MaterializeEmpty(module, ScalarType.BFloat16);
        Assert.All(module.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.Equal(ScalarType.BFloat16, module.weight!.dtype);
        Assert.Equal(DeviceType.CPU, torch.zeros(1).device_type);
    }
}
