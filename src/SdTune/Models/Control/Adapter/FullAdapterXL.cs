using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Control.Adapter;

/// <summary>
/// diffusers' <c>full_adapter_xl</c> (SDXL): like <see cref="FullAdapter"/> but with four levels of which only the third
/// halves the resolution, giving features for SDXL's three down blocks and its mid block: widths
/// <c>channels[0..3]</c> at 1/f, 1/f, 1/2f, 1/2f of the image (f = downscale_factor, 16 for SDXL).
/// </summary>
internal sealed class FullAdapterXL : T2IAdapterNetwork
{
    // Field order is state-dict order.
    private readonly Conv2d conv_in;
    private readonly ModuleList<AdapterBlock> body = new();
    private readonly int downscaleFactor;

    public FullAdapterXL(int inChannels, IReadOnlyList<int> channels, int resBlocks, int downscaleFactor)
        : base(nameof(FullAdapterXL))
    {
        this.downscaleFactor = downscaleFactor;
        conv_in = nn.Conv2d(inChannels * downscaleFactor * downscaleFactor, channels[0], 3, padding: 1);
        body.Add(new AdapterBlock(channels[0], channels[0], resBlocks));
        body.Add(new AdapterBlock(channels[0], channels[1], resBlocks));
        body.Add(new AdapterBlock(channels[1], channels[2], resBlocks, down: true));
        body.Add(new AdapterBlock(channels[3], channels[3], resBlocks));
        RegisterComponents();
    }

    public override Tensor[] forward(Tensor input)
    {
        using var stem = conv_in.call(nn.functional.pixel_unshuffle(input, downscaleFactor));
        return Features(stem, body);
    }
}
