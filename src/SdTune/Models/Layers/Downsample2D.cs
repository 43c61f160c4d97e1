using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>
/// Halves the spatial size with a stride-2 3x3 convolution. With padding 0 (the VAE encoder) the input
/// is first padded by one zero row/column at the bottom/right only, as the original LDM autoencoder does.
/// </summary>
internal sealed class Downsample2D : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly long padding;

    public Downsample2D(long channels, long outChannels, long padding)
        : base(nameof(Downsample2D))
    {
        conv = nn.Conv2d(channels, outChannels, 3, stride: 2, padding: padding);
        this.padding = padding;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (padding == 0)
        {
            using var padded = nn.functional.pad(input, (0, 1, 0, 1), PaddingModes.Constant, 0.0);
            return conv.call(padded);
        }

        return conv.call(input);
    }
}
