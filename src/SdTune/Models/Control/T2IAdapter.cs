using SdTune.IO;
using SdTune.Models.Control.Adapter;
using SdTune.Models.Unet;
using SdTune.Runtime;
using static TorchSharp.torch;

namespace SdTune.Models.Control;

/// <summary>
/// A T2I-Adapter (Mou et al. 2023) with diffusers' module structure and state-dict names (<c>adapter.conv_in.weight</c>,
/// <c>adapter.body.0.resnets.0.block1.weight</c>, ...): a small convolutional network that turns a conditioning image
/// into one feature map per UNet level. Pass the features as the UNet's <c>downIntrablockAdditionalResiduals</c>.
/// </summary>
public sealed class T2IAdapter : nn.Module
{
    private readonly T2IAdapterNetwork adapter;

    /// <summary>Builds the model with freshly initialised weights on the default device.</summary>
    /// <exception cref="ArgumentException">The config is invalid (the message names the field).</exception>
    public T2IAdapter(T2IAdapterConfig config)
        : base(nameof(T2IAdapter))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        adapter = config.AdapterType switch
        {
            T2IAdapterConfig.FullAdapterXl => new FullAdapterXL(config.InChannels, config.Channels, config.NumResBlocks, config.DownscaleFactor),
            T2IAdapterConfig.LightAdapter => new LightAdapter(config.InChannels, config.Channels, config.NumResBlocks, config.DownscaleFactor),
            _ => new FullAdapter(config.InChannels, config.Channels, config.NumResBlocks, config.DownscaleFactor),
        };
        RegisterComponents();
        PaddedConvolution.Guard(this);
    }

    /// <summary>The architecture this model was built from.</summary>
    public T2IAdapterConfig Config { get; }

    /// <summary>How much smaller than the image the smallest feature is (diffusers' <c>total_downscale_factor</c>).</summary>
    public int TotalDownscaleFactor => Config.TotalDownscaleFactor;

    /// <summary>The pixel-unshuffle factor; the image's height and width must be multiples of it.</summary>
    public int DownscaleFactor => Config.DownscaleFactor;

    /// <summary>
    /// Throws unless the adapter fits <paramref name="unet"/>: its channels start with the UNet's <c>block_out_channels</c>
    /// and add at most one more level, and its layout is the one <see cref="T2IAdapterConfig.LayoutFor"/> gives.
    /// </summary>
    /// <param name="unet">The UNet the features will be added to.</param>
    /// <param name="source">The adapter's folder (or option name), for the message.</param>
    /// <exception cref="CheckpointFormatException">The widths differ; the message names the source.</exception>
    public void EnsureFits(UNet2DConditionConfig unet, string source)
    {
        ArgumentNullException.ThrowIfNull(unet);
        var widths = unet.BlockOutChannels;
        var channels = Config.Channels;
        if (!channels.Take(widths.Count).SequenceEqual(widths) || channels.Count > widths.Count + 1)
        {
            throw new CheckpointFormatException(source,
                $"this T2I-Adapter does not fit the UNet: its channels are [{string.Join(", ", channels)}] but the UNet's block_out_channels are [{string.Join(", ", widths)}].");
        }

        if (!LayoutFits(unet))
        {
            throw new CheckpointFormatException(source,
                $"a {Config.AdapterType} T2I-Adapter does not fit this UNet, whose first down block is {unet.DownBlockTypes[0]}: its features would arrive at the wrong sizes; use {T2IAdapterConfig.LayoutFor(unet)}.");
        }
    }

    /// <summary>Whether the adapter's layout adds its features where <paramref name="unet"/> expects them: <see cref="T2IAdapterConfig.FullAdapterXl"/>
    /// exactly when <see cref="T2IAdapterConfig.LayoutFor"/> says so.</summary>
    public bool LayoutFits(UNet2DConditionConfig unet) =>
        (T2IAdapterConfig.LayoutFor(unet) == T2IAdapterConfig.FullAdapterXl) == (Config.AdapterType == T2IAdapterConfig.FullAdapterXl);

    /// <summary>The feature maps, one per adapter level, from the highest resolution down.</summary>
    /// <param name="image">The conditioning image (B, in_channels, H, W); H and W multiples of <see cref="DownscaleFactor"/>.</param>
    /// <exception cref="ArgumentException">The image has the wrong channel count or a size the adapter cannot unshuffle.</exception>
    public IReadOnlyList<Tensor> forward(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() != 4 || image.shape[1] != Config.InChannels)
        {
            throw new ArgumentException($"The T2I-Adapter takes (B, {Config.InChannels}, H, W) images (config field in_channels), got [{string.Join(", ", image.shape)}].", nameof(image));
        }

        if (image.shape[2] % DownscaleFactor != 0 || image.shape[3] % DownscaleFactor != 0)
        {
            throw new ArgumentException($"The image is {image.shape[2]}x{image.shape[3]}; the T2I-Adapter needs both sides to be multiples of its downscale_factor {DownscaleFactor}.", nameof(image));
        }

        return adapter.forward(image);
    }
}
