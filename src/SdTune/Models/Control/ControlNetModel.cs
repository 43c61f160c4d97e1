using SdTune.IO;
using SdTune.Models.Layers;
using SdTune.Models.Unet;
using SdTune.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Control;

/// <summary>
/// A ControlNet (Zhang et al. 2023) with diffusers' module structure and state-dict names: a trainable copy of a
/// UNet's contracting half whose input also receives an embedding of the conditioning image, and one zero-initialised
/// 1x1 convolution per skip connection (<c>controlnet_down_blocks</c>) and for the mid block
/// (<c>controlnet_mid_block</c>). Its outputs are added to the frozen UNet's skips and mid block.
/// </summary>
public sealed class ControlNetModel : nn.Module
{
    // Field order is state-dict order.
    private readonly Conv2d conv_in;
    private readonly Timesteps time_proj;
    private readonly TimestepEmbedding time_embedding;
    private readonly Timesteps? add_time_proj;
    private readonly TimestepEmbedding? add_embedding;
    private readonly ControlNetConditioningEmbedding controlnet_cond_embedding;
    private readonly ModuleList<UNetDownBlock> down_blocks = new();
    private readonly ModuleList<Conv2d> controlnet_down_blocks = new();
    private readonly Conv2d controlnet_mid_block;
    private readonly UNetMidBlock2DCrossAttn mid_block;

    /// <summary>
    /// Builds the model with freshly initialised weights on the default device; as in diffusers, the zero convolutions
    /// and the conditioning embedding's <c>conv_out</c> start at zero, so the residuals are zero until trained.
    /// </summary>
    public ControlNetModel(ControlNetConfig config)
        : base(nameof(ControlNetModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        var unet = config.Encoder;
        var channels = unet.BlockOutChannels;
        var timeDim = unet.ResolvedTimeEmbeddingDim;
        conv_in = nn.Conv2d(unet.InChannels, channels[0], unet.ConvInKernel, padding: (unet.ConvInKernel - 1) / 2);
        time_proj = new Timesteps(channels[0], unet.FlipSinToCos, unet.FreqShift);
        time_embedding = new TimestepEmbedding(channels[0], timeDim);
        if (unet.UsesTextTimeConditioning)
        {
            add_time_proj = new Timesteps(unet.AdditionTimeEmbedDim!.Value, unet.FlipSinToCos, unet.FreqShift);
            add_embedding = new TimestepEmbedding(unet.ProjectionClassEmbeddingsInputDim!.Value, timeDim);
        }

        controlnet_cond_embedding = new ControlNetConditioningEmbedding(channels[0], config.ConditioningChannels, config.ConditioningEmbeddingOutChannels);
        var settings = UNetEncoderBlocks.Settings(unet);
        UNetEncoderBlocks.AddDownBlocks(down_blocks, unet, settings);
        foreach (var width in UNetEncoderBlocks.SkipChannels(unet))
        {
            controlnet_down_blocks.Add(nn.Conv2d(width, width, 1));
        }

        controlnet_mid_block = nn.Conv2d(channels[^1], channels[^1], 1);
        mid_block = UNetEncoderBlocks.MidBlock(unet, settings)!;
        RegisterComponents();
        ZeroInitialise([.. controlnet_down_blocks, controlnet_mid_block, controlnet_cond_embedding.ConvOut]);
        PaddedConvolution.Guard(this);
    }

    /// <summary>The architecture this model was built from.</summary>
    public ControlNetConfig Config { get; }

    /// <summary>
    /// Gradient checkpointing of every resnet and spatial transformer (see <see cref="UNet2DConditionModel.GradientCheckpointing"/>).
    /// </summary>
    public bool GradientCheckpointing
    {
        get => modules().OfType<ResnetBlock2D>().FirstOrDefault()?.GradientCheckpointing ?? false;
        set
        {
            foreach (var module in modules())
            {
                if (module is ResnetBlock2D resnet)
                {
                    resnet.GradientCheckpointing = value;
                }
                else if (module is Transformer2DModel transformer)
                {
                    transformer.GradientCheckpointing = value;
                }
            }
        }
    }

    /// <summary>
    /// A ControlNet copied from <paramref name="unet"/> as diffusers' <c>ControlNetModel.from_unet</c> makes it: the
    /// config follows the UNet's, and <c>conv_in</c>, <c>time_embedding</c>, SDXL's <c>add_embedding</c>, the down blocks
    /// and the mid block take the UNet's weights (converted to this model's float32); the zero convolutions and the
    /// conditioning embedding's <c>conv_out</c> are zero. Built on the default device.
    /// </summary>
    /// <exception cref="ArgumentException">The UNet cannot be copied into a ControlNet, or an option is invalid.</exception>
    public static ControlNetModel FromUnet(UNet2DConditionModel unet, IReadOnlyList<int>? conditioningEmbeddingOutChannels = null,
        int conditioningChannels = 3, string conditioningChannelOrder = "rgb", bool loadWeightsFromUnet = true)
    {
        ArgumentNullException.ThrowIfNull(unet);
        var controlnet = new ControlNetModel(ControlNetConfig.FromUnet(unet.Config, conditioningEmbeddingOutChannels, conditioningChannels, conditioningChannelOrder));
        if (!loadWeightsFromUnet)
        {
            return controlnet;
        }

        string[] copied = ["conv_in.", "time_embedding.", "add_embedding.", "down_blocks.", "mid_block."];
        var source = ModuleTensors.Of(unet);
        using var noGrad = no_grad();
        foreach (var (name, target) in ModuleTensors.Of(controlnet))
        {
            if (copied.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            {
                target.copy_(source[name]);
            }
        }

        return controlnet;
    }

    /// <summary>
    /// Throws unless this ControlNet's residuals fit <paramref name="unet"/>: the same down blocks, widths, resnets per
    /// block and text-context width, and SDXL added conditioning exactly when the UNet has it.
    /// </summary>
    /// <param name="unet">The UNet the residuals will be added to.</param>
    /// <param name="controlNetSource">The ControlNet's file or folder (or option name), for the message.</param>
    /// <param name="vaeDownscaleFactor">When given, the conditioning embedding must shrink the image by this factor (the VAE's).</param>
    /// <exception cref="CheckpointFormatException">Something differs; the message names the source and the config fields.</exception>
    public void EnsureFits(UNet2DConditionConfig unet, string controlNetSource, int? vaeDownscaleFactor = null)
    {
        ArgumentNullException.ThrowIfNull(unet);
        var mine = Config.Encoder;
        var problems = new List<string>();
        void Compare<T>(string field, IEnumerable<T> controlnet, IEnumerable<T> target)
        {
            if (!controlnet.SequenceEqual(target))
            {
                problems.Add($"{field} is [{string.Join(", ", controlnet)}] but the UNet's is [{string.Join(", ", target)}]");
            }
        }

        Compare("down_block_types", mine.DownBlockTypes, unet.DownBlockTypes);
        Compare("block_out_channels", mine.BlockOutChannels, unet.BlockOutChannels);
        Compare("layers_per_block", mine.LayersPerBlock, unet.LayersPerBlock);
        Compare("cross_attention_dim", mine.CrossAttentionDim.Take(1), unet.CrossAttentionDim.Take(1));
        Compare("addition_embed_type", [mine.AdditionEmbedType ?? "null"], [unet.AdditionEmbedType ?? "null"]);
        Compare("in_channels", [mine.InChannels], [unet.InChannels]);
        if (problems.Count > 0)
        {
            throw new CheckpointFormatException(controlNetSource, $"this ControlNet does not fit the UNet: {string.Join("; ", problems)}.");
        }

        if (vaeDownscaleFactor is { } factor && Config.ConditioningDownscaleFactor != factor)
        {
            throw new CheckpointFormatException(controlNetSource,
                $"this ControlNet's conditioning embedding shrinks the image {Config.ConditioningDownscaleFactor}x (conditioning_embedding_out_channels), but the model's VAE shrinks it {factor}x.");
        }
    }

    /// <summary>Computes the residuals for one denoising step.</summary>
    /// <param name="sample">Noisy latents (B, in_channels, H, W), as given to the UNet.</param>
    /// <param name="timestep">As for the UNet: a scalar, one value, or one per sample.</param>
    /// <param name="encoderHiddenStates">Text context (B, tokens, cross_attention_dim).</param>
    /// <param name="controlnetCond">The conditioning image (B, conditioning_channels, H x f, W x f) in [0, 1], where f is
    /// <see cref="ControlNetConfig.ConditioningDownscaleFactor"/> (8 for the default embedding).</param>
    /// <param name="conditioningScale">Multiplies every residual (diffusers' <c>conditioning_scale</c>).</param>
    /// <param name="addedConditions">SDXL's pooled text embeddings and time ids; required exactly when the config uses "text_time".</param>
    /// <param name="guessMode">Scale the residuals from 0.1 (first skip) to 1.0 (mid block), geometrically spaced, as
    /// diffusers' guess mode does (ignored when the config pools the conditions globally).</param>
    public ControlNetOutput forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, Tensor controlnetCond,
        double conditioningScale = 1.0, UNetAddedConditions? addedConditions = null, bool guessMode = false)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(timestep);
        ArgumentNullException.ThrowIfNull(encoderHiddenStates);
        ArgumentNullException.ThrowIfNull(controlnetCond);
        UNetInputs.Check(Config.Encoder, "ControlNet", sample, timestep, encoderHiddenStates, addedConditions);
        CheckConditioning(sample, controlnetCond);

        using var scope = NewDisposeScope();
        var cond = Config.ConditioningChannelOrder == "bgr" ? controlnetCond.flip(1) : controlnetCond;
        var emb = UNetInputs.TimeEmbedding(time_proj, time_embedding, add_time_proj, add_embedding, sample, timestep, addedConditions);
        var x = conv_in.call(sample) + controlnet_cond_embedding.forward(cond.to(sample.dtype));
        var skips = new List<Tensor> { x };
        foreach (var block in down_blocks)
        {
            (x, var blockSkips) = block.forward(x, emb, encoderHiddenStates, null);
            skips.AddRange(blockSkips);
        }

        x = mid_block.forward(x, emb, encoderHiddenStates);
        var down = skips.Select((skip, i) => controlnet_down_blocks[i].call(skip)).ToList();
        var mid = controlnet_mid_block.call(x);

        var scales = ResidualScales(down.Count, conditioningScale, guessMode && !Config.GlobalPoolConditions);
        down = [.. down.Select((d, i) => d * scales[i])];
        mid = mid * scales[^1];
        if (Config.GlobalPoolConditions)
        {
            down = [.. down.Select(d => d.mean([2, 3], keepdim: true))];
            mid = mid.mean([2, 3], keepdim: true);
        }

        scope.MoveToOuter(down);
        scope.MoveToOuter(mid);
        return new ControlNetOutput(down, mid);
    }

    /// <summary>
    /// The factor of each residual (skips first, the mid block last): <paramref name="conditioningScale"/> for all, or in
    /// guess mode 10^(-1 + k/n) x <paramref name="conditioningScale"/> for k = 0..n, i.e. 0.1 to 1.0 geometrically spaced
    /// (<c>torch.logspace(-1, 0, n + 1)</c>).
    /// </summary>
    public static double[] ResidualScales(int skipCount, double conditioningScale, bool guessMode) =>
        [.. Enumerable.Range(0, skipCount + 1).Select(k => guessMode ? Math.Pow(10, -1.0 + ((double)k / skipCount)) * conditioningScale : conditioningScale)];

    private void CheckConditioning(Tensor sample, Tensor cond)
    {
        var f = Config.ConditioningDownscaleFactor;
        if (cond.dim() != 4 || cond.shape[1] != Config.ConditioningChannels)
        {
            throw new ArgumentException(
                $"controlnetCond has shape [{string.Join(", ", cond.shape)}], but this ControlNet takes (B, {Config.ConditioningChannels}, H, W) images (config field conditioning_channels).",
                nameof(cond));
        }

        if (cond.shape[2] != sample.shape[2] * f || cond.shape[3] != sample.shape[3] * f || (cond.shape[0] != sample.shape[0] && cond.shape[0] != 1))
        {
            throw new ArgumentException(
                $"controlnetCond has shape [{string.Join(", ", cond.shape)}]; for latents [{string.Join(", ", sample.shape)}] it must be [{sample.shape[0]} or 1, {Config.ConditioningChannels}, {sample.shape[2] * f}, {sample.shape[3] * f}] ({f}x the latent size, from conditioning_embedding_out_channels).",
                nameof(cond));
        }
    }

    private static void ZeroInitialise(IEnumerable<nn.Module> modules)
    {
        using var noGrad = no_grad();
        foreach (var parameter in modules.SelectMany(m => m.parameters()))
        {
            parameter.zero_();
        }
    }
}
