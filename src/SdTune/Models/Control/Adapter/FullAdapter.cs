using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Control.Adapter;

/// <summary>
/// diffusers' <c>full_adapter</c> (SD 1.x/2.x): pixel-unshuffle by the downscale factor, a 3x3 <c>conv_in</c>, then one
/// <see cref="AdapterBlock"/> per width, every one after the first halving the resolution. Feature k is
/// <c>channels[k]</c> wide at 1 / (downscale_factor x 2^k) of the image.
/// </summary>
internal sealed class FullAdapter : T2IAdapterNetwork
{
    // Field order is state-dict order.
    private readonly Conv2d conv_in;
    private readonly ModuleList<AdapterBlock> body = new();
    private readonly int downscaleFactor;

    public FullAdapter(int inChannels, IReadOnlyList<int> channels, int resBlocks, int downscaleFactor)
        : base(nameof(FullAdapter))
    {
        this.downscaleFactor = downscaleFactor;
        conv_in = nn.Conv2d(inChannels * downscaleFactor * downscaleFactor, channels[0], 3, padding: 1);
        body.Add(new AdapterBlock(channels[0], channels[0], resBlocks));
        for (var i = 1; i < channels.Count; i++)
        {
            body.Add(new AdapterBlock(channels[i - 1], channels[i], resBlocks, down: true));
        }

        RegisterComponents();
    }

    public override Tensor[] forward(Tensor input)
    {
        using var stem = conv_in.call(nn.functional.pixel_unshuffle(input, downscaleFactor));
        return Features(stem, body);
    }
}
