using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Vae;

/// <summary>VAE decoder: latent (B, latent, h, w) to image (B, 3, h*f, w*f).</summary>
internal sealed class VaeDecoder : nn.Module<Tensor, Tensor>
{
    private const double Eps = 1e-6;

    // Field order is state-dict order (diffusers registers up_blocks before mid_block).
    private readonly Conv2d conv_in;
    private readonly ModuleList<UpDecoderBlock2D> up_blocks = new();
    private readonly UNetMidBlock2D mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;

    public VaeDecoder(AutoencoderKLConfig config)
        : base(nameof(VaeDecoder))
    {
        var channels = config.BlockOutChannels;
        conv_in = nn.Conv2d(config.LatentChannels, channels[^1], 3, stride: 1, padding: 1);
        mid_block = new UNetMidBlock2D(channels[^1], config.NormNumGroups, Eps, config.MidBlockAddAttention);
        var reversed = channels.Reverse().ToArray();
        var output = reversed[0];
        for (var i = 0; i < reversed.Length; i++)
        {
            var previous = output;
            output = reversed[i];
            up_blocks.Add(new UpDecoderBlock2D(previous, output, config.LayersPerBlock + 1, config.NormNumGroups, Eps, addUpsample: i < reversed.Length - 1));
        }

        conv_norm_out = GroupNorms.Create(config.NormNumGroups, channels[0], Eps);
        conv_out = nn.Conv2d(channels[0], config.OutChannels, 3, stride: 1, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor latent)
    {
        using var scope = NewDisposeScope();
        var h = conv_in.call(latent);
        h = mid_block.forward(h);
        foreach (var block in up_blocks)
        {
            h = block.forward(h);
        }

        h = conv_out.call(nn.functional.silu(conv_norm_out.forward(h)));
        return h.MoveToOuterDisposeScope();
    }
}
