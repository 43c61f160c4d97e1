using SdTune.IO;
using SdTune.Models.Layers;

namespace SdTune.Models.Unet;

/// <summary>
/// The architecture of a <see cref="UNet2DConditionModel"/>, as diffusers' <c>unet/config.json</c> describes it,
/// with every int-or-list field expanded to one value per down block. Covers SD 1.x, SD 2.x and SDXL.
/// Build one with <see cref="Load"/> or <see cref="Parse"/>: missing keys take diffusers' defaults (the SD 1.x
/// values), and options this implementation does not support are rejected with an error naming the field.
/// </summary>
public sealed partial record UNet2DConditionConfig
{
    /// <summary>Block type of a down block with resnets and spatial transformers.</summary>
    public const string CrossAttnDownBlock = "CrossAttnDownBlock2D";

    /// <summary>Block type of a down block with resnets only.</summary>
    public const string PlainDownBlock = "DownBlock2D";

    /// <summary>Block type of an up block with resnets and spatial transformers.</summary>
    public const string CrossAttnUpBlock = "CrossAttnUpBlock2D";

    /// <summary>Block type of an up block with resnets only.</summary>
    public const string PlainUpBlock = "UpBlock2D";

    /// <summary>The only supported mid block type.</summary>
    public const string CrossAttnMidBlock = "UNetMidBlock2DCrossAttn";

    /// <summary>Latent height/width the model was trained at (informational); null when unknown.</summary>
    public int? SampleSize { get; init; }

    /// <summary>Channels of the noisy latent input.</summary>
    public int InChannels { get; init; } = 4;

    /// <summary>Channels of the prediction.</summary>
    public int OutChannels { get; init; } = 4;

    /// <summary>Whether the input is mapped from [0, 1] to [-1, 1] first (false for SD).</summary>
    public bool CenterInputSample { get; init; }

    /// <summary>Sinusoidal timestep embedding as [cos | sin] instead of [sin | cos].</summary>
    public bool FlipSinToCos { get; init; } = true;

    /// <summary>Frequency shift of the sinusoidal timestep embedding.</summary>
    public double FreqShift { get; init; }

    /// <summary>One entry per resolution level, <see cref="CrossAttnDownBlock"/> or <see cref="PlainDownBlock"/>.</summary>
    public IReadOnlyList<string> DownBlockTypes { get; init; } = [CrossAttnDownBlock, CrossAttnDownBlock, CrossAttnDownBlock, PlainDownBlock];

    /// <summary><see cref="CrossAttnMidBlock"/>, or null for a UNet without mid block.</summary>
    public string? MidBlockType { get; init; } = CrossAttnMidBlock;

    /// <summary>One entry per level, from the lowest resolution up: <see cref="CrossAttnUpBlock"/> or <see cref="PlainUpBlock"/>.</summary>
    public IReadOnlyList<string> UpBlockTypes { get; init; } = [PlainUpBlock, CrossAttnUpBlock, CrossAttnUpBlock, CrossAttnUpBlock];

    /// <summary>Channels per level.</summary>
    public IReadOnlyList<int> BlockOutChannels { get; init; } = [320, 640, 1280, 1280];

    /// <summary>Resnets per down block (up blocks have one more).</summary>
    public IReadOnlyList<int> LayersPerBlock { get; init; } = [2, 2, 2, 2];

    /// <summary>Padding of the downsampling convolutions.</summary>
    public int DownsamplePadding { get; init; } = 1;

    /// <summary>Output scale factor of the mid block's resnets.</summary>
    public double MidBlockScaleFactor { get; init; } = 1.0;

    /// <summary>Dropout probability in resnets and transformers.</summary>
    public double Dropout { get; init; }

    /// <summary>GroupNorm groups.</summary>
    public int NormNumGroups { get; init; } = 32;

    /// <summary>GroupNorm epsilon of resnets and of the output norm.</summary>
    public double NormEps { get; init; } = 1e-5;

    /// <summary>Channels of the text context, per down block.</summary>
    public IReadOnlyList<int> CrossAttentionDim { get; init; } = [1280, 1280, 1280, 1280];

    /// <summary>Transformer blocks per spatial transformer, per down block (SDXL: [1, 2, 10]).</summary>
    public IReadOnlyList<int> TransformerLayersPerBlock { get; init; } = [1, 1, 1, 1];

    /// <summary>Transformer blocks per up block, when they differ from the reversed down values; null otherwise.</summary>
    public IReadOnlyList<int>? ReverseTransformerLayersPerBlock { get; init; }

    /// <summary>
    /// diffusers' <c>attention_head_dim</c>, per down block. Despite its name it holds the <b>number of heads</b>
    /// when <see cref="NumAttentionHeads"/> is null (diffusers resolves <c>num_attention_heads or attention_head_dim</c>).
    /// </summary>
    public IReadOnlyList<int> AttentionHeadDim { get; init; } = [8, 8, 8, 8];

    /// <summary>diffusers' <c>num_attention_heads</c>, per down block; null in every published SD config.</summary>
    public IReadOnlyList<int>? NumAttentionHeads { get; init; }

    /// <summary>Linear <c>proj_in</c>/<c>proj_out</c> (SD 2.x, SDXL) instead of 1x1 convolutions (SD 1.x).</summary>
    public bool UseLinearProjection { get; init; }

    /// <summary>Compute attention in float32 even when the model runs in half precision (SD 2.1).</summary>
    public bool UpcastAttention { get; init; }

    /// <summary>null, or "text_time" (SDXL: pooled text embeddings plus embedded size/crop time ids).</summary>
    public string? AdditionEmbedType { get; init; }

    /// <summary>Sinusoidal width of each SDXL time id (256).</summary>
    public int? AdditionTimeEmbedDim { get; init; }

    /// <summary>Input width of the SDXL <c>add_embedding</c> (2816 = 1280 pooled + 6 x 256).</summary>
    public int? ProjectionClassEmbeddingsInputDim { get; init; }

    /// <summary>Width of the timestep embedding; null means 4 x the first block's channels.</summary>
    public int? TimeEmbeddingDim { get; init; }

    /// <summary>Kernel size of <c>conv_in</c>.</summary>
    public int ConvInKernel { get; init; } = 3;

    /// <summary>Kernel size of <c>conv_out</c>.</summary>
    public int ConvOutKernel { get; init; } = 3;

    /// <summary>Heads of each down block's transformers: <see cref="NumAttentionHeads"/> if set, else <see cref="AttentionHeadDim"/>.</summary>
    public IReadOnlyList<int> HeadsPerBlock => NumAttentionHeads ?? AttentionHeadDim;

    /// <summary>Width of the timestep embedding actually used.</summary>
    public int ResolvedTimeEmbeddingDim => TimeEmbeddingDim ?? BlockOutChannels[0] * 4;

    /// <summary>Whether the model takes SDXL's added conditions (pooled text embeddings and time ids).</summary>
    public bool UsesTextTimeConditioning => AdditionEmbedType == "text_time";

    /// <summary>Reads a diffusers <c>config.json</c>.</summary>
    /// <exception cref="CheckpointFormatException">Invalid JSON, or a field with an invalid or unsupported value.</exception>
    public static UNet2DConditionConfig Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses the text of a diffusers <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CheckpointFormatException">Invalid JSON, or a field with an invalid or unsupported value.</exception>
    public static UNet2DConditionConfig Parse(string json, string source) => ParseAs(json, source, "UNet2DConditionModel", encoderOnly: false);

    /// <summary>
    /// Parses the UNet fields of a config of <paramref name="className"/>. With <paramref name="encoderOnly"/> (a
    /// ControlNet's config, which describes only the contracting half) the up blocks are the mirror of the down blocks.
    /// </summary>
    internal static UNet2DConditionConfig ParseAs(string json, string source, string className, bool encoderOnly)
    {
        var r = DiffusersConfigReader.Parse(json, source, className);
        var d = new UNet2DConditionConfig();
        var down = r.StringList("down_block_types", d.DownBlockTypes);
        var n = down.Count;
        if (n == 0)
        {
            throw r.Error("down_block_types", "is empty");
        }

        var blockOut = r.IntList("block_out_channels", d.BlockOutChannels);
        if (blockOut.Count != n)
        {
            throw r.Error("block_out_channels", $"has {blockOut.Count} entries but down_block_types has {n}");
        }

        IReadOnlyList<int> PerBlock(string key, IReadOnlyList<int> defaultPerBlock) =>
            r.NullableIntOrList(key) is { } v ? r.PerBlock(key, v, n) : defaultPerBlock;

        var headDim = PerBlock("attention_head_dim", [.. Enumerable.Repeat(8, n)]);
        var config = new UNet2DConditionConfig
        {
            SampleSize = r.NullableInt("sample_size"),
            InChannels = r.Int("in_channels", d.InChannels),
            OutChannels = r.Int("out_channels", d.OutChannels),
            CenterInputSample = r.Bool("center_input_sample", d.CenterInputSample),
            FlipSinToCos = r.Bool("flip_sin_to_cos", d.FlipSinToCos),
            FreqShift = r.Double("freq_shift", d.FreqShift),
            DownBlockTypes = down,
            MidBlockType = r.IsExplicitNull("mid_block_type") ? null : r.String("mid_block_type", d.MidBlockType),
            UpBlockTypes = encoderOnly ? MirroredUpBlockTypes(down) : r.StringList("up_block_types", d.UpBlockTypes),
            BlockOutChannels = blockOut,
            LayersPerBlock = PerBlock("layers_per_block", [.. Enumerable.Repeat(2, n)]),
            DownsamplePadding = r.Int("downsample_padding", d.DownsamplePadding),
            MidBlockScaleFactor = r.Double("mid_block_scale_factor", d.MidBlockScaleFactor),
            Dropout = r.Double("dropout", d.Dropout),
            NormNumGroups = r.Int("norm_num_groups", d.NormNumGroups),
            NormEps = r.Double("norm_eps", d.NormEps),
            CrossAttentionDim = PerBlock("cross_attention_dim", [.. Enumerable.Repeat(1280, n)]),
            TransformerLayersPerBlock = ReadTransformerLayers(r, "transformer_layers_per_block", n),
            ReverseTransformerLayersPerBlock = r.Has("reverse_transformer_layers_per_block") ? ReadTransformerLayers(r, "reverse_transformer_layers_per_block", n) : null,
            AttentionHeadDim = headDim,
            NumAttentionHeads = r.NullableIntOrList("num_attention_heads") is { } heads ? r.PerBlock("num_attention_heads", heads, n) : null,
            UseLinearProjection = r.Bool("use_linear_projection", d.UseLinearProjection),
            UpcastAttention = r.Bool("upcast_attention", d.UpcastAttention),
            AdditionEmbedType = r.String("addition_embed_type", null),
            AdditionTimeEmbedDim = r.NullableInt("addition_time_embed_dim"),
            ProjectionClassEmbeddingsInputDim = r.NullableInt("projection_class_embeddings_input_dim"),
            TimeEmbeddingDim = r.NullableInt("time_embedding_dim"),
            ConvInKernel = r.Int("conv_in_kernel", d.ConvInKernel),
            ConvOutKernel = r.Int("conv_out_kernel", d.ConvOutKernel),
        };

        RejectUnsupported(r);
        config.Validate(r);
        return config;
    }

    /// <summary>The up blocks that mirror <paramref name="downBlockTypes"/> (lowest resolution first), as every SD UNet has them.</summary>
    internal static IReadOnlyList<string> MirroredUpBlockTypes(IReadOnlyList<string> downBlockTypes) =>
        [.. downBlockTypes.Reverse().Select(t => t == CrossAttnDownBlock ? CrossAttnUpBlock : PlainUpBlock)];

    private static IReadOnlyList<int> ReadTransformerLayers(DiffusersConfigReader r, string key, int n)
    {
        try
        {
            return r.NullableIntOrList(key) is { } v ? r.PerBlock(key, v, n) : [.. Enumerable.Repeat(1, n)];
        }
        catch (CheckpointFormatException) when (r.Has(key))
        {
            throw r.Error(key, "must be an integer or a list of integers (per-layer nested lists are not supported)");
        }
    }

    private static void RejectUnsupported(DiffusersConfigReader r)
    {
        void Require<T>(string key, T actual, T supported, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(actual, supported))
            {
                throw r.Error(key, $"is {Show(actual)}, but only {Show(supported)} is supported ({what})");
            }
        }

        Require("act_fn", r.String("act_fn", "silu"), "silu", "SD UNets use SiLU");
        Require("only_cross_attention", r.NullableBool("only_cross_attention") ?? false, false, "SD UNets use self- and cross-attention");
        Require("dual_cross_attention", r.Bool("dual_cross_attention", false), false, "no SD UNet uses it");
        Require("class_embed_type", r.String("class_embed_type", null), null, "class embeddings are not used by SD UNets");
        Require("num_class_embeds", r.NullableInt("num_class_embeds"), null, "class embeddings are not used by SD UNets");
        Require("resnet_time_scale_shift", r.String("resnet_time_scale_shift", "default"), "default", "SD UNets add the time embedding");
        Require("resnet_skip_time_act", r.Bool("resnet_skip_time_act", false), false, "SD UNets apply SiLU to the time embedding");
        Require("resnet_out_scale_factor", r.Double("resnet_out_scale_factor", 1.0), 1.0, "SD UNets do not rescale resnet outputs");
        Require("time_embedding_type", r.String("time_embedding_type", "positional"), "positional", "SD UNets use sinusoidal timestep embeddings");
        Require("time_embedding_act_fn", r.String("time_embedding_act_fn", null), null, "not used by SD UNets");
        Require("timestep_post_act", r.String("timestep_post_act", null), null, "not used by SD UNets");
        Require("time_cond_proj_dim", r.NullableInt("time_cond_proj_dim"), null, "not used by SD UNets");
        Require("encoder_hid_dim", r.NullableInt("encoder_hid_dim"), null, "not used by SD UNets");
        Require("encoder_hid_dim_type", r.String("encoder_hid_dim_type", null), null, "not used by SD UNets");
        Require("attention_type", r.String("attention_type", "default"), "default", "gated attention is not used by SD UNets");
        Require("class_embeddings_concat", r.Bool("class_embeddings_concat", false), false, "not used by SD UNets");
        Require("mid_block_only_cross_attention", r.NullableBool("mid_block_only_cross_attention") ?? false, false, "SD UNets use self- and cross-attention");
        Require("cross_attention_norm", r.String("cross_attention_norm", null), null, "not used by SD UNets");
    }

    private static string Show<T>(T value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };

    private void Validate(DiffusersConfigReader r)
    {
        var n = DownBlockTypes.Count;
        for (var i = 0; i < n; i++)
        {
            if (DownBlockTypes[i] is not (CrossAttnDownBlock or PlainDownBlock))
            {
                throw r.Error($"down_block_types[{i}]", $"is the unknown block type \"{DownBlockTypes[i]}\" (supported: {CrossAttnDownBlock}, {PlainDownBlock})");
            }
        }

        if (UpBlockTypes.Count != n)
        {
            throw r.Error("up_block_types", $"has {UpBlockTypes.Count} entries but down_block_types has {n}");
        }

        for (var i = 0; i < n; i++)
        {
            if (UpBlockTypes[i] is not (CrossAttnUpBlock or PlainUpBlock))
            {
                throw r.Error($"up_block_types[{i}]", $"is the unknown block type \"{UpBlockTypes[i]}\" (supported: {CrossAttnUpBlock}, {PlainUpBlock})");
            }
        }

        if (MidBlockType is not (null or CrossAttnMidBlock))
        {
            throw r.Error("mid_block_type", $"is the unknown block type \"{MidBlockType}\" (supported: {CrossAttnMidBlock} or null)");
        }

        if (AdditionEmbedType is not (null or "text_time"))
        {
            throw r.Error("addition_embed_type", $"is \"{AdditionEmbedType}\", but only null or \"text_time\" (SDXL) is supported");
        }

        if (UsesTextTimeConditioning)
        {
            if (AdditionTimeEmbedDim is not > 0)
            {
                throw r.Error("addition_time_embed_dim", "must be a positive integer when addition_embed_type is \"text_time\"");
            }

            if (ProjectionClassEmbeddingsInputDim is not > 0)
            {
                throw r.Error("projection_class_embeddings_input_dim", "must be a positive integer when addition_embed_type is \"text_time\"");
            }
        }

        if (ReverseTransformerLayersPerBlock is not null && UpBlockTypes.Any(t => t == CrossAttnUpBlock) is false)
        {
            throw r.Error("reverse_transformer_layers_per_block", "is set but there are no cross-attention up blocks");
        }

        if (ConvInKernel % 2 == 0 || ConvInKernel <= 0)
        {
            throw r.Error("conv_in_kernel", $"must be a positive odd number, got {ConvInKernel}");
        }

        if (ConvOutKernel % 2 == 0 || ConvOutKernel <= 0)
        {
            throw r.Error("conv_out_kernel", $"must be a positive odd number, got {ConvOutKernel}");
        }

        for (var i = 0; i < n; i++)
        {
            var channels = BlockOutChannels[i];
            if (channels <= 0 || channels % NormNumGroups != 0)
            {
                throw r.Error($"block_out_channels[{i}]", $"is {channels}, which is not a positive multiple of norm_num_groups ({NormNumGroups})");
            }

            if (LayersPerBlock[i] <= 0)
            {
                throw r.Error($"layers_per_block[{i}]", "must be positive");
            }

            var heads = HeadsPerBlock[i];
            var field = NumAttentionHeads is null ? "attention_head_dim" : "num_attention_heads";
            if (heads <= 0 || channels % heads != 0)
            {
                throw r.Error($"{field}[{i}]", $"gives {heads} attention heads, which do not divide the block's {channels} channels (diffusers reads attention_head_dim as a number of heads)");
            }
        }
    }
}
