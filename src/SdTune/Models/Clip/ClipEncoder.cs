using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>The stack of transformer layers (transformers' <c>encoder</c>, holding <c>layers.0..N-1</c>).</summary>
internal sealed class ClipEncoder : nn.Module
{
    [ComponentName(Name = "layers")]
    private readonly ModuleList<ClipEncoderLayer> layers;

    public ClipEncoder(ClipTextConfig config, Device? device, ScalarType? dtype)
        : base("encoder")
    {
        layers = nn.ModuleList([.. Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new ClipEncoderLayer(config, device, dtype))]);
        RegisterComponents();
    }

    public int Count => layers.Count;

    public ClipEncoderLayer this[int index] => layers[index];
}
