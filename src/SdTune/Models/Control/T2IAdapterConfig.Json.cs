using System.Text.Json.Nodes;
using SdTune.Models.Layers;

namespace SdTune.Models.Control;

/// <content>Writing the config as diffusers' T2I-Adapter <c>config.json</c>.</content>
public sealed partial record T2IAdapterConfig
{
    /// <summary>The <c>_class_name</c> of diffusers' T2I-Adapter configs.</summary>
    public const string ClassName = "T2IAdapter";

    /// <summary>The config as a diffusers <c>T2IAdapter</c> <c>config.json</c>; <see cref="Parse"/> reads it back to an equal config.</summary>
    public string ToJson() => ConfigJson.Write(new JsonObject
    {
        ["_class_name"] = ClassName,
        ["_diffusers_version"] = ConfigJson.DiffusersVersion,
        ["adapter_type"] = AdapterType,
        ["channels"] = ConfigJson.Ints(Channels),
        ["downscale_factor"] = DownscaleFactor,
        ["in_channels"] = InChannels,
        ["num_res_blocks"] = NumResBlocks,
    });
}
