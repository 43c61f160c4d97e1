using TorchSharp.Modules;

namespace SdTune.Models.Unet;

/// <summary>
/// Builds the contracting half of a UNet (down blocks and mid block) from its config. Shared by
/// <see cref="UNet2DConditionModel"/> and the ControlNet, whose trainable copy must have exactly the UNet's
/// blocks and state-dict names.
/// </summary>
internal static class UNetEncoderBlocks
{
    /// <summary>The settings every block of a UNet built from <paramref name="config"/> shares.</summary>
    public static UNetBlockSettings Settings(UNet2DConditionConfig config) =>
        new(config.ResolvedTimeEmbeddingDim, config.NormNumGroups, config.NormEps, config.Dropout, config.UseLinearProjection, config.UpcastAttention);

    /// <summary>Adds one down block per level to <paramref name="blocks"/>; every level but the last downsamples.</summary>
    public static void AddDownBlocks(ModuleList<UNetDownBlock> blocks, UNet2DConditionConfig config, UNetBlockSettings settings)
    {
        var channels = config.BlockOutChannels;
        var heads = config.HeadsPerBlock;
        var output = channels[0];
        for (var i = 0; i < channels.Count; i++)
        {
            var input = output;
            output = channels[i];
            var addDownsample = i < channels.Count - 1;
            blocks.Add(config.DownBlockTypes[i] == UNet2DConditionConfig.CrossAttnDownBlock
                ? new CrossAttnDownBlock2D(settings, input, output, config.LayersPerBlock[i], config.TransformerLayersPerBlock[i], heads[i],
                    config.CrossAttentionDim[i], addDownsample, config.DownsamplePadding)
                : new DownBlock2D(settings, input, output, config.LayersPerBlock[i], addDownsample, config.DownsamplePadding));
        }
    }

    /// <summary>The mid block, or null when the config has none.</summary>
    public static UNetMidBlock2DCrossAttn? MidBlock(UNet2DConditionConfig config, UNetBlockSettings settings) =>
        config.MidBlockType is null
            ? null
            : new UNetMidBlock2DCrossAttn(settings, config.BlockOutChannels[^1], config.TransformerLayersPerBlock[^1], config.HeadsPerBlock[^1],
                config.CrossAttentionDim[^1], config.MidBlockScaleFactor);

    /// <summary>
    /// The channels of every skip connection the down path produces, in order: conv_in, one per resnet, one per
    /// downsampler. ControlNet residuals must have these widths.
    /// </summary>
    public static IReadOnlyList<int> SkipChannels(UNet2DConditionConfig config)
    {
        var channels = config.BlockOutChannels;
        var skips = new List<int> { channels[0] };
        for (var i = 0; i < channels.Count; i++)
        {
            skips.AddRange(Enumerable.Repeat(channels[i], config.LayersPerBlock[i] + (i < channels.Count - 1 ? 1 : 0)));
        }

        return skips;
    }
}
