using SdTune.IO;
using SdTune.Models.Layers;
using SdTune.Models.Unet;

namespace SdTune.Models.Control;

/// <summary>
/// The architecture of a <see cref="T2IAdapter"/> (Mou et al. 2023), as diffusers' adapter <c>config.json</c> describes
/// it. Missing keys take diffusers' defaults (the SD 1.x full adapter).
/// </summary>
public sealed partial record T2IAdapterConfig
{
    /// <summary>The SD 1.x/2.x adapter: a feature per channel entry, each level after the first at half resolution.</summary>
    public const string FullAdapter = "full_adapter";

    /// <summary>The SDXL adapter: four features at two resolutions, matching SDXL's down blocks and mid block.</summary>
    public const string FullAdapterXl = "full_adapter_xl";

    /// <summary>The light adapter: narrow bottleneck blocks, one feature per channel entry plus one more at the end.</summary>
    public const string LightAdapter = "light_adapter";

    /// <summary>Channels of the conditioning image (3 for RGB, 1 for a sketch or depth map).</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>Width of each feature level (the UNet's block widths).</summary>
    public IReadOnlyList<int> Channels { get; init; } = [320, 640, 1280, 1280];

    /// <summary>Residual blocks per level.</summary>
    public int NumResBlocks { get; init; } = 2;

    /// <summary>The pixel-unshuffle factor of the first step (8: image to latent grid; SDXL adapters use 16).</summary>
    public int DownscaleFactor { get; init; } = 8;

    /// <summary><see cref="FullAdapter"/>, <see cref="FullAdapterXl"/> or <see cref="LightAdapter"/>.</summary>
    public string AdapterType { get; init; } = FullAdapter;

    /// <summary>
    /// The layout that fits <paramref name="unet"/>: a UNet adds a T2I-Adapter's first feature inside its first down block
    /// when that block has cross-attention (SD 1.x/2.x: <see cref="FullAdapter"/>, every later level at half the size) and
    /// after the block, past its downsampler, when it has none (SDXL, the toy base model: <see cref="FullAdapterXl"/>, whose
    /// first two levels share one size).
    /// </summary>
    public static string LayoutFor(UNet2DConditionConfig unet)
    {
        ArgumentNullException.ThrowIfNull(unet);
        return unet.DownBlockTypes.Count > 0 && unet.DownBlockTypes[0] == UNet2DConditionConfig.PlainDownBlock ? FullAdapterXl : FullAdapter;
    }

    /// <summary>How much smaller than the image the smallest feature is.</summary>
    public int TotalDownscaleFactor => AdapterType switch
    {
        FullAdapterXl => DownscaleFactor * 2,
        LightAdapter => DownscaleFactor * (1 << Channels.Count),
        _ => DownscaleFactor * (1 << (Channels.Count - 1)),
    };

    /// <summary>Reads a diffusers T2I-Adapter <c>config.json</c>.</summary>
    /// <exception cref="CheckpointFormatException">Invalid JSON, or a field with an invalid or unsupported value; the message names the file and field.</exception>
    public static T2IAdapterConfig Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses the text of a diffusers T2I-Adapter <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="CheckpointFormatException">Invalid JSON, or a field with an invalid or unsupported value.</exception>
    public static T2IAdapterConfig Parse(string json, string source)
    {
        var r = DiffusersConfigReader.Parse(json, source, ClassName);
        var d = new T2IAdapterConfig();
        var config = new T2IAdapterConfig
        {
            InChannels = r.Int("in_channels", d.InChannels),
            Channels = r.IntList("channels", d.Channels),
            NumResBlocks = r.Int("num_res_blocks", d.NumResBlocks),
            DownscaleFactor = r.Int("downscale_factor", d.DownscaleFactor),
            AdapterType = r.String("adapter_type", d.AdapterType)!,
        };
        return config.Problem() is { } problem ? throw r.Error(problem.Field, problem.Message) : config;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when the config cannot be built.</summary>
    internal void Validate()
    {
        if (Problem() is { } problem)
        {
            throw new ArgumentException($"T2I-Adapter option {problem.Field} {problem.Message}.");
        }
    }

    private (string Field, string Message)? Problem()
    {
        if (AdapterType is not (FullAdapter or FullAdapterXl or LightAdapter))
        {
            return ("adapter_type", $"is \"{AdapterType}\"; supported: \"{FullAdapter}\", \"{FullAdapterXl}\", \"{LightAdapter}\"");
        }

        if (InChannels <= 0 || NumResBlocks <= 0 || DownscaleFactor <= 0)
        {
            return (InChannels <= 0 ? "in_channels" : NumResBlocks <= 0 ? "num_res_blocks" : "downscale_factor", "must be positive");
        }

        if (Channels.Count == 0 || Channels.Any(c => c <= 0))
        {
            return ("channels", $"must be a non-empty list of positive widths, got [{string.Join(", ", Channels)}]");
        }

        if (AdapterType == FullAdapterXl && (Channels.Count != 4 || Channels[2] != Channels[3]))
        {
            return ("channels", $"must hold four widths with the last two equal for {FullAdapterXl} (SDXL: 320, 640, 1280, 1280), got [{string.Join(", ", Channels)}]");
        }

        if (AdapterType == LightAdapter && Channels.Any(c => c < 4))
        {
            return ("channels", "must be at least 4 wide for the light adapter (its blocks are a quarter as wide)");
        }

        return null;
    }
}
