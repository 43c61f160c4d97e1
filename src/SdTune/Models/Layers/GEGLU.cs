using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>Gated GELU: one linear projection to twice the width, split into value and gate, value * GELU(gate).</summary>
internal sealed class GEGLU : nn.Module<Tensor, Tensor>
{
    private readonly Linear proj;

    public GEGLU(long dimIn, long dimOut)
        : base(nameof(GEGLU))
    {
        proj = nn.Linear(dimIn, dimOut * 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var parts = proj.call(input).chunk(2, dim: -1);
        return (parts[0] * nn.functional.gelu(parts[1])).MoveToOuterDisposeScope();
    }
}
