using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Vae;

/// <summary>VAE encoder: image (B, 3, H, W) to latent moments (B, 2 * latent, H/f, W/f), mean and log-variance stacked.</summary>
internal sealed class VaeEncoder : nn.Module<Tensor, Tensor>
{
    private const double Eps = 1e-6;

    // Field order is state-dict order.
    private readonly Conv2d conv_in;
    private readonly ModuleList<DownEncoderBlock2D> down_blocks = new();
    private readonly UNetMidBlock2D mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;

    public VaeEncoder(AutoencoderKLConfig config)
        : base(nameof(VaeEncoder))
    {
        var channels = config.BlockOutChannels;
        conv_in = nn.Conv2d(config.InChannels, channels[0], 3, stride: 1, padding: 1);
        var output = channels[0];
        for (var i = 0; i < channels.Count; i++)
        {
            var input = output;
            output = channels[i];
            down_blocks.Add(new DownEncoderBlock2D(input, output, config.LayersPerBlock, config.NormNumGroups, Eps, addDownsample: i < channels.Count - 1));
        }

        mid_block = new UNetMidBlock2D(channels[^1], config.NormNumGroups, Eps, config.MidBlockAddAttention);
        conv_norm_out = GroupNorms.Create(config.NormNumGroups, channels[^1], Eps);
        conv_out = nn.Conv2d(channels[^1], 2 * config.LatentChannels, 3, stride: 1, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor image)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.call(image);
        foreach (var block in down_blocks)
        {
            h = block.forward(h);
        }

        h = mid_block.forward(h);
        h = conv_out.call(nn.functional.silu(conv_norm_out.forward(h)));
        return h.MoveToOuterDisposeScope();
    }
}
