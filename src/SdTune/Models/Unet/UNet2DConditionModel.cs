using SdTune.Runtime;
using SdTune.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Unet;

/// <summary>
/// The conditional denoising UNet of Stable Diffusion 1.x, 2.x and SDXL, with diffusers' module structure and
/// state-dict names (<c>down_blocks.0.attentions.0.proj_in.weight</c>, ...), so diffusers checkpoints load as they are.
/// </summary>
public sealed class UNet2DConditionModel : nn.Module
{
    private Func<Tensor, (Tensor Key, Tensor Value)>? crossAttentionContext;

    // Field order is state-dict order (diffusers registers up_blocks before mid_block).
    private readonly Conv2d conv_in;
    private readonly Timesteps time_proj;
    private readonly TimestepEmbedding time_embedding;
    private readonly Timesteps? add_time_proj;
    private readonly TimestepEmbedding? add_embedding;
    private readonly ModuleList<UNetDownBlock> down_blocks = new();
    private readonly ModuleList<UNetUpBlock> up_blocks = new();
    private readonly UNetMidBlock2DCrossAttn? mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;
    private bool gradientCheckpointing;

    /// <summary>Builds the model with freshly initialised weights on the default device.</summary>
    public UNet2DConditionModel(UNet2DConditionConfig config)
        : base(nameof(UNet2DConditionModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        var channels = config.BlockOutChannels;
        var levels = channels.Count;
        var timeDim = config.ResolvedTimeEmbeddingDim;

        conv_in = nn.Conv2d(config.InChannels, channels[0], config.ConvInKernel, stride: 1, padding: (config.ConvInKernel - 1) / 2);
        time_proj = new Timesteps(channels[0], config.FlipSinToCos, config.FreqShift);
        time_embedding = new TimestepEmbedding(channels[0], timeDim);
        if (config.UsesTextTimeConditioning)
        {
            add_time_proj = new Timesteps(config.AdditionTimeEmbedDim!.Value, config.FlipSinToCos, config.FreqShift);
            add_embedding = new TimestepEmbedding(config.ProjectionClassEmbeddingsInputDim!.Value, timeDim);
        }

        var settings = UNetEncoderBlocks.Settings(config);
        var heads = config.HeadsPerBlock;
        UNetEncoderBlocks.AddDownBlocks(down_blocks, config, settings);
        mid_block = UNetEncoderBlocks.MidBlock(config, settings);

        var reversedChannels = channels.Reverse().ToArray();
        var reversedHeads = heads.Reverse().ToArray();
        var reversedLayers = config.LayersPerBlock.Reverse().ToArray();
        var reversedCrossDim = config.CrossAttentionDim.Reverse().ToArray();
        var reversedTransformerLayers = config.ReverseTransformerLayersPerBlock?.ToArray() ?? config.TransformerLayersPerBlock.Reverse().ToArray();
        var output = reversedChannels[0];
        for (var i = 0; i < levels; i++)
        {
            var previousOutput = output;
            output = reversedChannels[i];
            var input = reversedChannels[Math.Min(i + 1, levels - 1)];
            var addUpsample = i < levels - 1;
            up_blocks.Add(config.UpBlockTypes[i] == UNet2DConditionConfig.CrossAttnUpBlock
                ? new CrossAttnUpBlock2D(settings, input, output, previousOutput, reversedLayers[i] + 1, reversedTransformerLayers[i], reversedHeads[i],
                    reversedCrossDim[i], addUpsample)
                : new UpBlock2D(settings, input, output, previousOutput, reversedLayers[i] + 1, addUpsample));
        }

        conv_norm_out = GroupNorms.Create(config.NormNumGroups, channels[0], config.NormEps);
        conv_out = nn.Conv2d(channels[0], config.OutChannels, config.ConvOutKernel, stride: 1, padding: (config.ConvOutKernel - 1) / 2);
        RegisterComponents();
        PaddedConvolution.Guard(this);
    }

    /// <summary>The architecture this model was built from.</summary>
    public UNet2DConditionConfig Config { get; }

    /// <summary>
    /// Gradient checkpointing of every resnet and spatial transformer of the down, mid and up blocks: their activations
    /// are recomputed in backward instead of kept, which cuts activation memory for about one extra forward pass.
    /// Takes effect only in training mode with gradient recording on; gradients are those of the plain pass (see
    /// <see cref="GradientCheckpoint"/>). Off by default.
    /// </summary>
    public bool GradientCheckpointing
    {
        get => gradientCheckpointing;
        set
        {
            foreach (var module in modules())
            {
                switch (module)
                {
                    case ResnetBlock2D resnet:
                        resnet.GradientCheckpointing = value;
                        break;
                    case Transformer2DModel transformer:
                        transformer.GradientCheckpointing = value;
                        break;
                }
            }

            gradientCheckpointing = value;
        }
    }

    /// <summary>
    /// How many skip connections the down path produces (conv_in, one per resnet, one per downsampler): the
    /// number of tensors <c>downBlockAdditionalResiduals</c> must hold, in the same order and shapes.
    /// </summary>
    public int SkipConnectionCount => 1 + Config.LayersPerBlock.Sum() + (Config.BlockOutChannels.Count - 1);

    /// <summary>
    /// A transform of the attention context into the key and value inputs of every attention layer of the UNet
    /// (A1111's hypernetworks transform the context for K and V separately): the text for cross-attention, the layer's
    /// own input for self-attention, told apart only by their width (<see cref="AttentionContextWidths"/>); null (the
    /// default) uses the context as it is. Read back as what was last set.
    /// </summary>
    public Func<Tensor, (Tensor Key, Tensor Value)>? CrossAttentionContext
    {
        get => crossAttentionContext;
        set
        {
            crossAttentionContext = value;
            foreach (var attention in modules().OfType<Layers.Attention>())
            {
                attention.ContextTransform = value;
            }
        }
    }

    /// <summary>
    /// The widths of the contexts <see cref="CrossAttentionContext"/> sees: the text width(s) of cross-attention and the
    /// channels of every self-attention, in ascending order.
    /// </summary>
    public IReadOnlyList<long> AttentionContextWidths =>
        [.. modules().OfType<Layers.Attention>().Select(a => a.ContextWidth).Distinct().Order()];

    /// <summary>Predicts the noise (or v, or x0, depending on what the model was trained for).</summary>
    /// <param name="sample">Noisy latents (B, in_channels, H, W).</param>
    /// <param name="timestep">A 0-d or 1-element tensor (broadcast to the batch) or one timestep per sample; integer or floating point.</param>
    /// <param name="encoderHiddenStates">Text context (B, tokens, cross_attention_dim).</param>
    /// <param name="addedConditions">SDXL's pooled text embeddings and time ids; required exactly when the config uses "text_time".</param>
    /// <param name="downBlockAdditionalResiduals">
    /// ControlNet residuals: one tensor per skip connection (<see cref="SkipConnectionCount"/>), each added to the
    /// matching skip before the up path uses it.
    /// </param>
    /// <param name="midBlockAdditionalResidual">ControlNet residual added to the mid block's output.</param>
    /// <param name="downIntrablockAdditionalResiduals">
    /// T2I-Adapter features, consumed in order: added inside each cross-attention down block after its last
    /// transformer, or to the output of a down block without attention (and to its last skip connection, as diffusers
    /// does); a feature left after the down blocks is added to the mid block's output when it has its shape (SDXL
    /// adapters). More features than that is an error.
    /// </param>
    /// <returns>The prediction, (B, out_channels, H, W), in the sample's type.</returns>
    public Tensor forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, UNetAddedConditions? addedConditions = null,
        IReadOnlyList<Tensor>? downBlockAdditionalResiduals = null, Tensor? midBlockAdditionalResidual = null,
        IReadOnlyList<Tensor>? downIntrablockAdditionalResiduals = null)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(timestep);
        ArgumentNullException.ThrowIfNull(encoderHiddenStates);
        CheckInputs(sample, timestep, encoderHiddenStates, addedConditions, downBlockAdditionalResiduals);

        using var scope = NewDisposeScope();

        // Every spatial size must halve evenly at each downsampler; otherwise the up path is told the skip sizes.
        var overallFactor = 1L << (up_blocks.Count - 1);
        var forwardUpsampleSize = sample.shape[2] % overallFactor != 0 || sample.shape[3] % overallFactor != 0;

        var x = Config.CenterInputSample ? (2 * sample) - 1.0 : sample;

        var emb = UNetInputs.TimeEmbedding(time_proj, time_embedding, add_time_proj, add_embedding, sample, timestep, addedConditions);

        x = conv_in.call(x);
        var skips = new List<Tensor> { x };
        var intrablock = new Queue<Tensor>(downIntrablockAdditionalResiduals ?? []);
        foreach (var block in down_blocks)
        {
            var adapter = intrablock.Count > 0 ? intrablock.Dequeue() : null;
            (x, var blockSkips) = block.forward(x, emb, encoderHiddenStates, adapter);
            skips.AddRange(blockSkips);
        }

        if (downBlockAdditionalResiduals is not null)
        {
            for (var i = 0; i < skips.Count; i++)
            {
                EnsureFits(downBlockAdditionalResiduals[i], skips[i], $"downBlockAdditionalResiduals[{i}]", $"skip connection {i}");
                skips[i] = skips[i] + downBlockAdditionalResiduals[i];
            }
        }

        if (mid_block is not null)
        {
            x = mid_block.forward(x, emb, encoderHiddenStates);
            if (intrablock.Count > 0 && FitsMidBlock(intrablock.Peek(), x))
            {
                x = x + intrablock.Dequeue();
            }
        }

        if (intrablock.Count > 0)
        {
            throw new ArgumentException(
                $"downIntrablockAdditionalResiduals holds {downIntrablockAdditionalResiduals!.Count} features, but this UNet takes {downIntrablockAdditionalResiduals.Count - intrablock.Count} " +
                $"(one per down block, plus one for the mid block when it has the mid block's shape); the T2I-Adapter does not fit this UNet.",
                nameof(downIntrablockAdditionalResiduals));
        }

        if (midBlockAdditionalResidual is not null)
        {
            EnsureFits(midBlockAdditionalResidual, x, nameof(midBlockAdditionalResidual), "the mid block's output");
            x = x + midBlockAdditionalResidual;
        }

        for (var i = 0; i < up_blocks.Count; i++)
        {
            var block = up_blocks[i];
            var blockSkips = skips.GetRange(skips.Count - block.SkipCount, block.SkipCount);
            skips.RemoveRange(skips.Count - block.SkipCount, block.SkipCount);
            long[]? upsampleSize = forwardUpsampleSize && i < up_blocks.Count - 1 ? [skips[^1].shape[2], skips[^1].shape[3]] : null;
            x = block.forward(x, blockSkips, emb, encoderHiddenStates, upsampleSize);
        }

        x = conv_out.call(nn.functional.silu(conv_norm_out.forward(x)));
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Predicts with one timestep for the whole batch.</summary>
    /// <inheritdoc cref="forward(Tensor, Tensor, Tensor, UNetAddedConditions?, IReadOnlyList{Tensor}?, Tensor?, IReadOnlyList{Tensor}?)"/>
    public Tensor forward(Tensor sample, double timestep, Tensor encoderHiddenStates, UNetAddedConditions? addedConditions = null,
        IReadOnlyList<Tensor>? downBlockAdditionalResiduals = null, Tensor? midBlockAdditionalResidual = null,
        IReadOnlyList<Tensor>? downIntrablockAdditionalResiduals = null)
    {
        ArgumentNullException.ThrowIfNull(sample);
        using var t = tensor(timestep, ScalarType.Float64, sample.device);
        return forward(sample, t, encoderHiddenStates, addedConditions, downBlockAdditionalResiduals, midBlockAdditionalResidual, downIntrablockAdditionalResiduals);
    }

    /// <summary>
    /// Throws unless <paramref name="residual"/> has the shape of <paramref name="target"/> (a batch of 1 broadcasts):
    /// a residual of another shape comes from a side network made for another UNet.
    /// </summary>
    internal static void EnsureFits(Tensor residual, Tensor target, string argument, string what)
    {
        if (!Fits(residual, target))
        {
            throw new ArgumentException(
                $"{argument} has shape [{string.Join(", ", residual.shape)}], but {what} of this UNet is [{string.Join(", ", target.shape)}]: " +
                "the ControlNet or T2I-Adapter was made for a UNet with other block_out_channels, layers_per_block or down blocks, or for another input size.",
                argument);
        }
    }

    /// <summary>Whether <paramref name="residual"/> can be added to <paramref name="target"/>: the same shape, or a batch of 1 that broadcasts.</summary>
    private static bool Fits(Tensor residual, Tensor target) =>
        residual.dim() == target.dim() && residual.shape.Skip(1).SequenceEqual(target.shape.Skip(1))
        && (residual.shape[0] == target.shape[0] || residual.shape[0] == 1);

    /// <summary>Whether an adapter feature left after the down blocks is the mid block's (full_adapter_xl), batch of 1 included.</summary>
    private static bool FitsMidBlock(Tensor feature, Tensor midOutput) => Fits(feature, midOutput);

    private void CheckInputs(Tensor sample, Tensor timestep, Tensor context, UNetAddedConditions? added, IReadOnlyList<Tensor>? downResiduals)
    {
        UNetInputs.Check(Config, "UNet", sample, timestep, context, added);
        if (downResiduals is not null && downResiduals.Count != SkipConnectionCount)
        {
            throw new ArgumentException($"downBlockAdditionalResiduals must hold one tensor per skip connection ({SkipConnectionCount}), got {downResiduals.Count}.", nameof(downResiduals));
        }
    }
}
