using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Control.Adapter;

/// <summary>
/// diffusers' <c>light_adapter</c>: pixel-unshuffle, then <see cref="LightAdapterBlock"/>s (no <c>conv_in</c>): one to
/// <c>channels[0]</c>, one per next width with halving, and a last one at <c>channels[^1]</c> that halves again. So it
/// gives one feature more than it has widths, the last at 1 / (downscale_factor x 2^len(channels)) of the image.
/// </summary>
internal sealed class LightAdapter : T2IAdapterNetwork
{
    private readonly ModuleList<LightAdapterBlock> body = new();
    private readonly int downscaleFactor;

    public LightAdapter(int inChannels, IReadOnlyList<int> channels, int resBlocks, int downscaleFactor)
        : base(nameof(LightAdapter))
    {
        this.downscaleFactor = downscaleFactor;
        body.Add(new LightAdapterBlock(inChannels * downscaleFactor * downscaleFactor, channels[0], resBlocks));
        for (var i = 0; i < channels.Count - 1; i++)
        {
            body.Add(new LightAdapterBlock(channels[i], channels[i + 1], resBlocks, down: true));
        }

        body.Add(new LightAdapterBlock(channels[^1], channels[^1], resBlocks, down: true));
        RegisterComponents();
    }

    public override Tensor[] forward(Tensor input)
    {
        using var unshuffled = nn.functional.pixel_unshuffle(input, downscaleFactor);
        return Features(unshuffled, body);
    }
}
