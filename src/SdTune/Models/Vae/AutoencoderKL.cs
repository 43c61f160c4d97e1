using SdTune.Runtime;
using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Vae;

/// <summary>
/// The KL autoencoder (VAE) of Stable Diffusion, with diffusers' module structure and state-dict names
/// (<c>encoder.*</c>, <c>decoder.*</c>, <c>quant_conv</c>, <c>post_quant_conv</c>). Images are in [-1, 1]; no
/// scaling factor is applied here (see <see cref="AutoencoderKLConfig.ScalingFactor"/>).
/// </summary>
public sealed class AutoencoderKL : nn.Module
{
    // Field order is state-dict order.
    private readonly VaeEncoder encoder;
    private readonly VaeDecoder decoder;
    private readonly Conv2d? quant_conv;
    private readonly Conv2d? post_quant_conv;

    /// <summary>Builds the model with freshly initialised weights on the default device.</summary>
    public AutoencoderKL(AutoencoderKLConfig config)
        : base(nameof(AutoencoderKL))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        encoder = new VaeEncoder(config);
        decoder = new VaeDecoder(config);
        if (config.UseQuantConv)
        {
            quant_conv = nn.Conv2d(2 * config.LatentChannels, 2 * config.LatentChannels, 1);
        }

        if (config.UsePostQuantConv)
        {
            post_quant_conv = nn.Conv2d(config.LatentChannels, config.LatentChannels, 1);
        }

        RegisterComponents();
        PaddedConvolution.Guard(this);
    }

    /// <summary>The architecture this model was built from.</summary>
    public AutoencoderKLConfig Config { get; }

    /// <summary>The encoder's raw output (B, 2 * latent, H/f, W/f), before <c>quant_conv</c>.</summary>
    public Tensor EncodeHidden(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckChannels(image, Config.InChannels, nameof(image));
        return encoder.forward(image);
    }

    /// <summary>Encodes images (B, in_channels, H, W) in [-1, 1] to the latent distribution.</summary>
    public DiagonalGaussianDistribution Encode(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckChannels(image, Config.InChannels, nameof(image));
        using var scope = NewDisposeScope();
        var moments = encoder.forward(image);
        if (quant_conv is not null)
        {
            moments = quant_conv.call(moments);
        }

        // The distribution's tensors are created inside this scope; move them out with it.
        var distribution = new DiagonalGaussianDistribution(moments);
        scope.MoveToOuter(distribution.Mean, distribution.LogVar, distribution.Std, distribution.Var);
        return distribution;
    }

    /// <summary>Decodes latents (B, latent, h, w), already divided by the scaling factor, to images (B, out_channels, h*f, w*f).</summary>
    public Tensor Decode(Tensor latent)
    {
        ArgumentNullException.ThrowIfNull(latent);
        CheckChannels(latent, Config.LatentChannels, nameof(latent));
        using var scope = NewDisposeScope();
        var z = post_quant_conv is null ? latent : post_quant_conv.call(latent);
        return decoder.forward(z).MoveToOuterDisposeScope();
    }

    private static void CheckChannels(Tensor t, int channels, string name)
    {
        if (t.dim() != 4 || t.shape[1] != channels)
        {
            throw new ArgumentException($"Expected a tensor of shape (B, {channels}, H, W), got [{string.Join(", ", t.shape)}].", name);
        }
    }
}
