using SdTune.IO;
using SdTune.Models.Layers;
using SdTune.Models.Unet;

namespace SdTune.Models.Control;

/// <summary>
/// The architecture of a <see cref="ControlNetModel"/>, as diffusers' ControlNet <c>config.json</c> describes it: the
/// UNet half it copies (<see cref="Encoder"/>) plus the conditioning-image fields. Build one with <see cref="Load"/>,
/// <see cref="Parse"/> or <see cref="FromUnet"/>; missing keys take diffusers' defaults.
/// </summary>
public sealed partial record ControlNetConfig
{
    /// <summary>diffusers' default widths of the conditioning embedding's convolutions (the ControlNet paper's encoder).</summary>
    public static readonly IReadOnlyList<int> DefaultConditioningEmbeddingOutChannels = [16, 32, 96, 256];

    /// <summary>
    /// The UNet architecture whose contracting half (<c>conv_in</c>, time embedding, SDXL <c>add_embedding</c>, down
    /// blocks, mid block) the ControlNet has, built exactly as in <see cref="UNet2DConditionModel"/>. Only those fields
    /// count: the up blocks are the mirror of the down blocks and the output fields keep their defaults.
    /// </summary>
    public required UNet2DConditionConfig Encoder { get; init; }

    /// <summary>Channels of the conditioning image (3 for RGB control images).</summary>
    public int ConditioningChannels { get; init; } = 3;

    /// <summary>"rgb", or "bgr" when the model was trained on BGR images (the channels are flipped before use).</summary>
    public string ConditioningChannelOrder { get; init; } = "rgb";

    /// <summary>Widths of the conditioning embedding's convolutions; each step after the first halves the resolution.</summary>
    public IReadOnlyList<int> ConditioningEmbeddingOutChannels { get; init; } = DefaultConditioningEmbeddingOutChannels;

    /// <summary>Average the residuals over space (the "shuffle" ControlNet); false for every other model.</summary>
    public bool GlobalPoolConditions { get; init; }

    /// <summary>How much smaller than the conditioning image the latents are: 2 per stride-2 convolution of the embedding.</summary>
    public int ConditioningDownscaleFactor => 1 << (ConditioningEmbeddingOutChannels.Count - 1);

    /// <summary>
    /// The config of a ControlNet copied from a UNet of <paramref name="unet"/>'s architecture, with <c>from_unet</c>'s
    /// defaults.
    /// </summary>
    /// <exception cref="ArgumentException">The UNet has a feature a diffusers ControlNet cannot copy, or an option is invalid.</exception>
    public static ControlNetConfig FromUnet(UNet2DConditionConfig unet, IReadOnlyList<int>? conditioningEmbeddingOutChannels = null,
        int conditioningChannels = 3, string conditioningChannelOrder = "rgb")
    {
        ArgumentNullException.ThrowIfNull(unet);
        if (unet.ConvInKernel != 3 || unet.TimeEmbeddingDim is not null)
        {
            throw new ArgumentException(
                $"A ControlNet cannot copy this UNet: diffusers' ControlNet has a 3x3 conv_in and a time embedding 4x block_out_channels[0] wide, the UNet has conv_in_kernel {unet.ConvInKernel} and time_embedding_dim {unet.TimeEmbeddingDim?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}.",
                nameof(unet));
        }

        var config = new ControlNetConfig
        {
            Encoder = EncoderOf(unet),
            ConditioningChannels = conditioningChannels,
            ConditioningChannelOrder = conditioningChannelOrder,
            ConditioningEmbeddingOutChannels = conditioningEmbeddingOutChannels ?? DefaultConditioningEmbeddingOutChannels,
        };
        var problem = config.Problem();
        return problem is null ? config : throw new ArgumentException($"ControlNet option {problem.Value.Field} {problem.Value.Message}.");
    }

    /// <summary>Reads a diffusers ControlNet <c>config.json</c>.</summary>
    /// <exception cref="CheckpointFormatException">Invalid JSON, or a field with an invalid or unsupported value; the message names the file and field.</exception>
    public static ControlNetConfig Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses the text of a diffusers ControlNet <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CheckpointFormatException">Invalid JSON, or a field with an invalid or unsupported value.</exception>
    public static ControlNetConfig Parse(string json, string source)
    {
        var r = DiffusersConfigReader.Parse(json, source, ClassName);
        var config = new ControlNetConfig
        {
            Encoder = EncoderOf(UNet2DConditionConfig.ParseAs(json, source, ClassName, encoderOnly: true)),
            ConditioningChannels = r.Int("conditioning_channels", 3),
            ConditioningChannelOrder = r.String("controlnet_conditioning_channel_order", "rgb")!,
            ConditioningEmbeddingOutChannels = r.IntList("conditioning_embedding_out_channels", DefaultConditioningEmbeddingOutChannels),
            GlobalPoolConditions = r.Bool("global_pool_conditions", false),
        };
        return config.Problem() is { } problem ? throw r.Error(problem.Field, problem.Message) : config;
    }

    /// <summary>The UNet fields a ControlNet keeps, the rest set to what a ControlNet config implies.</summary>
    private static UNet2DConditionConfig EncoderOf(UNet2DConditionConfig unet) => unet with
    {
        SampleSize = null,
        OutChannels = 4,
        CenterInputSample = false,
        UpBlockTypes = UNet2DConditionConfig.MirroredUpBlockTypes(unet.DownBlockTypes),
        ReverseTransformerLayersPerBlock = null,
        Dropout = 0,
        ConvOutKernel = 3,
    };

    private (string Field, string Message)? Problem()
    {
        if (ConditioningChannels <= 0)
        {
            return ("conditioning_channels", $"must be positive, got {ConditioningChannels}");
        }

        if (ConditioningChannelOrder is not ("rgb" or "bgr"))
        {
            return ("controlnet_conditioning_channel_order", $"is \"{ConditioningChannelOrder}\"; supported: \"rgb\", \"bgr\"");
        }

        if (Encoder.MidBlockType is null)
        {
            return ("mid_block_type", "is null, but a ControlNet needs its mid block (UNetMidBlock2DCrossAttn) for controlnet_mid_block");
        }

        if (ConditioningEmbeddingOutChannels.Count == 0 || ConditioningEmbeddingOutChannels.Any(c => c <= 0))
        {
            return ("conditioning_embedding_out_channels", $"must be a non-empty list of positive widths, got [{string.Join(", ", ConditioningEmbeddingOutChannels)}]");
        }

        return null;
    }
}
