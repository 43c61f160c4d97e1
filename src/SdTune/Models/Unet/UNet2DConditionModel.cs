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

        var settings = new UNetBlockSettings(timeDim, config.NormNumGroups, config.NormEps, config.Dropout, config.UseLinearProjection, config.UpcastAttention);
        var heads = config.HeadsPerBlock;

        var output = channels[0];
        for (var i = 0; i < levels; i++)
        {
            var input = output;
            output = channels[i];
            var addDownsample = i < levels - 1;
            down_blocks.Add(config.DownBlockTypes[i] == UNet2DConditionConfig.CrossAttnDownBlock
                ? new CrossAttnDownBlock2D(settings, input, output, config.LayersPerBlock[i], config.TransformerLayersPerBlock[i], heads[i],
                    config.CrossAttentionDim[i], addDownsample, config.DownsamplePadding)
                : new DownBlock2D(settings, input, output, config.LayersPerBlock[i], addDownsample, config.DownsamplePadding));
        }

        if (config.MidBlockType is not null)
        {
            mid_block = new UNetMidBlock2DCrossAttn(settings, channels[^1], config.TransformerLayersPerBlock[^1], heads[^1],
                config.CrossAttentionDim[^1], config.MidBlockScaleFactor);
        }

        var reversedChannels = channels.Reverse().ToArray();
        var reversedHeads = heads.Reverse().ToArray();
        var reversedLayers = config.LayersPerBlock.Reverse().ToArray();
        var reversedCrossDim = config.CrossAttentionDim.Reverse().ToArray();
        var reversedTransformerLayers = config.ReverseTransformerLayersPerBlock?.ToArray() ?? config.TransformerLayersPerBlock.Reverse().ToArray();
        output = reversedChannels[0];
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
    /// transformer, or to the output of a down block without attention.
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
        var batch = sample.shape[0];

        // Every spatial size must halve evenly at each downsampler; otherwise the up path is told the skip sizes.
        var overallFactor = 1L << (up_blocks.Count - 1);
        var forwardUpsampleSize = sample.shape[2] % overallFactor != 0 || sample.shape[3] % overallFactor != 0;

        var x = Config.CenterInputSample ? (2 * sample) - 1.0 : sample;

        var timesteps = timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep;
        timesteps = timesteps.to(sample.device).expand(batch);
        var emb = time_embedding.forward(time_proj.forward(timesteps).to(sample.dtype));
        if (add_embedding is not null && add_time_proj is not null && addedConditions is not null)
        {
            var textEmbeds = addedConditions.TextEmbeds;
            var timeEmbeds = add_time_proj.forward(addedConditions.TimeIds.flatten()).reshape(textEmbeds.shape[0], -1);
            var addEmbeds = cat([textEmbeds, timeEmbeds.to(textEmbeds.dtype)], -1).to(emb.dtype);
            emb = emb + add_embedding.forward(addEmbeds);
        }

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
                skips[i] = skips[i] + downBlockAdditionalResiduals[i];
            }
        }

        if (mid_block is not null)
        {
            x = mid_block.forward(x, emb, encoderHiddenStates);
            if (intrablock.Count > 0 && intrablock.Peek().shape.SequenceEqual(x.shape))
            {
                x = x + intrablock.Dequeue();
            }
        }

        if (midBlockAdditionalResidual is not null)
        {
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

    private void CheckInputs(Tensor sample, Tensor timestep, Tensor context, UNetAddedConditions? added, IReadOnlyList<Tensor>? downResiduals)
    {
        if (sample.dim() != 4 || sample.shape[1] != Config.InChannels)
        {
            throw new ArgumentException($"The UNet expects a sample of shape (B, {Config.InChannels}, H, W), got [{string.Join(", ", sample.shape)}].", nameof(sample));
        }

        var batch = sample.shape[0];
        if (timestep.dim() > 1 || (timestep.dim() == 1 && timestep.shape[0] != 1 && timestep.shape[0] != batch))
        {
            throw new ArgumentException($"The timestep must be a scalar, one value, or one value per sample ({batch}); got shape [{string.Join(", ", timestep.shape)}].", nameof(timestep));
        }

        if (context.dim() != 3 || context.shape[2] != Config.CrossAttentionDim[0])
        {
            throw new ArgumentException($"The UNet expects encoder hidden states of shape (B, tokens, {Config.CrossAttentionDim[0]}), got [{string.Join(", ", context.shape)}].", nameof(context));
        }

        if (Config.UsesTextTimeConditioning && added is null)
        {
            throw new ArgumentException("This UNet uses \"text_time\" added conditioning (SDXL): pass the pooled text embeddings and time ids.", nameof(added));
        }

        if (!Config.UsesTextTimeConditioning && added is not null)
        {
            throw new ArgumentException("This UNet has no added conditioning (addition_embed_type is null), but added conditions were passed.", nameof(added));
        }

        if (added is not null)
        {
            var expected = Config.ProjectionClassEmbeddingsInputDim!.Value;
            var actual = added.TextEmbeds.shape[^1] + (added.TimeIds.shape[^1] * Config.AdditionTimeEmbedDim!.Value);
            if (added.TextEmbeds.dim() != 2 || added.TimeIds.dim() != 2 || actual != expected)
            {
                throw new ArgumentException(
                    $"Added conditions of shapes text_embeds [{string.Join(", ", added.TextEmbeds.shape)}] and time_ids [{string.Join(", ", added.TimeIds.shape)}] give {actual} features; the model's add_embedding expects {expected} (pooled width + time ids x {Config.AdditionTimeEmbedDim}).",
                    nameof(added));
            }
        }

        if (downResiduals is not null && downResiduals.Count != SkipConnectionCount)
        {
            throw new ArgumentException($"downBlockAdditionalResiduals must hold one tensor per skip connection ({SkipConnectionCount}), got {downResiduals.Count}.", nameof(downResiduals));
        }
    }
}
