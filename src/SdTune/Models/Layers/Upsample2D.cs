using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>Doubles the spatial size (nearest neighbour) or resizes to a given size, then applies a 3x3 convolution.</summary>
internal sealed class Upsample2D : nn.Module<Tensor, long[]?, Tensor>
{
    private readonly Conv2d conv;

    public Upsample2D(long channels, long outChannels)
        : base(nameof(Upsample2D))
    {
        conv = nn.Conv2d(channels, outChannels, 3, stride: 1, padding: 1);
        RegisterComponents();
    }

    /// <param name="input">(B, C, H, W).</param>
    /// <param name="outputSize">Target (H, W); null doubles H and W.</param>
    public override Tensor forward(Tensor input, long[]? outputSize)
    {
        using var scope = NewDisposeScope();
        var dtype = input.dtype;

        // Nearest upsampling has no bfloat16 kernel on some backends; do it in float32.
        var h = dtype == ScalarType.BFloat16 ? input.to(ScalarType.Float32) : input;
        h = outputSize is null
            ? nn.functional.interpolate(h, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest)
            : nn.functional.interpolate(h, size: outputSize, mode: InterpolationMode.Nearest);
        if (h.dtype != dtype)
        {
            h = h.to(dtype);
        }

        return conv.call(h).MoveToOuterDisposeScope();
    }
}
