using SdTune.IO;
using SdTune.Models.Layers;

namespace SdTune.Models.Vae;

/// <summary>
/// The architecture of an <see cref="AutoencoderKL"/>, as diffusers' <c>vae/config.json</c> describes it.
/// Missing keys take diffusers' defaults; unsupported options are rejected with an error naming the field.
/// </summary>
public sealed partial record AutoencoderKLConfig
{
    /// <summary>The only supported encoder block type.</summary>
    public const string DownEncoderBlock = "DownEncoderBlock2D";

    /// <summary>The only supported decoder block type.</summary>
    public const string UpDecoderBlock = "UpDecoderBlock2D";

    /// <summary>Image channels in.</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Image channels out.</summary>
    public int OutChannels { get; init; } = 3;

    /// <summary>Encoder block types, one per level.</summary>
    public IReadOnlyList<string> DownBlockTypes { get; init; } = [DownEncoderBlock];

    /// <summary>Decoder block types, one per level.</summary>
    public IReadOnlyList<string> UpBlockTypes { get; init; } = [UpDecoderBlock];

    /// <summary>Channels per level (SD: [128, 256, 512, 512]).</summary>
    public IReadOnlyList<int> BlockOutChannels { get; init; } = [64];

    /// <summary>Resnets per encoder block (decoder blocks have one more).</summary>
    public int LayersPerBlock { get; init; } = 1;

    /// <summary>Latent channels.</summary>
    public int LatentChannels { get; init; } = 4;

    /// <summary>GroupNorm groups.</summary>
    public int NormNumGroups { get; init; } = 32;

    /// <summary>Image size the model was trained at (informational).</summary>
    public int SampleSize { get; init; } = 32;

    /// <summary>Multiply sampled latents by this before the UNet (SD 1.x/2.x 0.18215, SDXL 0.13025).</summary>
    public double ScalingFactor { get; init; } = 0.18215;

    /// <summary>Subtracted from latents before scaling (null for SD; used by later model families).</summary>
    public double? ShiftFactor { get; init; }

    /// <summary>Per-channel latent means, when the model publishes them.</summary>
    public IReadOnlyList<double>? LatentsMean { get; init; }

    /// <summary>Per-channel latent standard deviations, when the model publishes them.</summary>
    public IReadOnlyList<double>? LatentsStd { get; init; }

    /// <summary>The VAE overflows in float16 and should run in float32.</summary>
    public bool ForceUpcast { get; init; } = true;

    /// <summary>Whether a 1x1 <c>quant_conv</c> follows the encoder.</summary>
    public bool UseQuantConv { get; init; } = true;

    /// <summary>Whether a 1x1 <c>post_quant_conv</c> precedes the decoder.</summary>
    public bool UsePostQuantConv { get; init; } = true;

    /// <summary>Whether the encoder's and decoder's mid blocks have a self-attention layer.</summary>
    public bool MidBlockAddAttention { get; init; } = true;

    /// <summary>Spatial downsampling factor between image and latent.</summary>
    public int DownsamplingFactor => 1 << (BlockOutChannels.Count - 1);

    /// <summary>Reads a diffusers <c>config.json</c>.</summary>
    /// <exception cref="CheckpointFormatException">Invalid JSON, or a field with an invalid or unsupported value.</exception>
    public static AutoencoderKLConfig Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses the text of a diffusers <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CheckpointFormatException">Invalid JSON, or a field with an invalid or unsupported value.</exception>
    public static AutoencoderKLConfig Parse(string json, string source)
    {
        var r = DiffusersConfigReader.Parse(json, source, "AutoencoderKL");
        var d = new AutoencoderKLConfig();
        var config = new AutoencoderKLConfig
        {
            InChannels = r.Int("in_channels", d.InChannels),
            OutChannels = r.Int("out_channels", d.OutChannels),
            DownBlockTypes = r.StringList("down_block_types", d.DownBlockTypes),
            UpBlockTypes = r.StringList("up_block_types", d.UpBlockTypes),
            BlockOutChannels = r.IntList("block_out_channels", d.BlockOutChannels),
            LayersPerBlock = r.Int("layers_per_block", d.LayersPerBlock),
            LatentChannels = r.Int("latent_channels", d.LatentChannels),
            NormNumGroups = r.Int("norm_num_groups", d.NormNumGroups),
            SampleSize = r.Int("sample_size", d.SampleSize),
            ScalingFactor = r.Double("scaling_factor", d.ScalingFactor),
            ShiftFactor = r.NullableDouble("shift_factor"),
            LatentsMean = r.NullableDoubleList("latents_mean"),
            LatentsStd = r.NullableDoubleList("latents_std"),
            ForceUpcast = r.Bool("force_upcast", d.ForceUpcast),
            UseQuantConv = r.Bool("use_quant_conv", d.UseQuantConv),
            UsePostQuantConv = r.Bool("use_post_quant_conv", d.UsePostQuantConv),
            MidBlockAddAttention = r.Bool("mid_block_add_attention", d.MidBlockAddAttention),
        };

        var act = r.String("act_fn", "silu");
        if (act != "silu")
        {
            throw r.Error("act_fn", $"is \"{act}\", but only \"silu\" is supported");
        }

        config.Validate(r);
        return config;
    }

    private void Validate(DiffusersConfigReader r)
    {
        var n = BlockOutChannels.Count;
        if (n == 0)
        {
            throw r.Error("block_out_channels", "is empty");
        }

        if (DownBlockTypes.Count != n)
        {
            throw r.Error("down_block_types", $"has {DownBlockTypes.Count} entries but block_out_channels has {n}");
        }

        if (UpBlockTypes.Count != n)
        {
            throw r.Error("up_block_types", $"has {UpBlockTypes.Count} entries but block_out_channels has {n}");
        }

        for (var i = 0; i < n; i++)
        {
            if (DownBlockTypes[i] != DownEncoderBlock)
            {
                throw r.Error($"down_block_types[{i}]", $"is the unknown block type \"{DownBlockTypes[i]}\" (supported: {DownEncoderBlock})");
            }

            if (UpBlockTypes[i] != UpDecoderBlock)
            {
                throw r.Error($"up_block_types[{i}]", $"is the unknown block type \"{UpBlockTypes[i]}\" (supported: {UpDecoderBlock})");
            }

            if (BlockOutChannels[i] <= 0 || BlockOutChannels[i] % NormNumGroups != 0)
            {
                throw r.Error($"block_out_channels[{i}]", $"is {BlockOutChannels[i]}, which is not a positive multiple of norm_num_groups ({NormNumGroups})");
            }
        }

        if (LayersPerBlock <= 0)
        {
            throw r.Error("layers_per_block", "must be positive");
        }

        if (LatentChannels <= 0)
        {
            throw r.Error("latent_channels", "must be positive");
        }
    }
}
