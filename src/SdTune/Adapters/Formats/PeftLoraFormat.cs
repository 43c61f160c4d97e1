using SdTune.Checkpoints.Safetensors;
using static TorchSharp.torch;

namespace SdTune.Adapters.Formats;

/// <summary>
/// The diffusers/PEFT LoRA file as diffusers' <c>save_lora_weights</c> writes it and <c>load_lora_weights</c> reads it:
/// <c>unet.&lt;path&gt;.lora_A.weight</c> (down) and <c>.lora_B.weight</c> (up), <c>text_encoder.</c> and
/// <c>text_encoder_2.</c> for the text encoders, metadata <c>format = pt</c> and the PEFT configs in
/// <see cref="PeftAdapterMetadata"/>, which is where each module's alpha is kept (no alpha tensor; the factors are stored
/// unscaled, so the numbers are the kohya file's). Reading is <see cref="LoraFileReader"/>.
/// </summary>
public static class PeftLoraFormat
{
    /// <summary>Writes <paramref name="modules"/> to <paramref name="path"/> (atomically), tensors in their own types.</summary>
    /// <param name="path">Destination <c>.safetensors</c> file.</param>
    /// <param name="modules">The LoRA modules.</param>
    /// <param name="extraMetadata">Further metadata to keep (training keys of the source, ...); null for none.</param>
    /// <returns>The metadata written.</returns>
    public static IReadOnlyDictionary<string, string> Save(string path, IReadOnlyList<LoraModuleTensors> modules, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(modules);
        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var module in modules)
        {
            var name = KohyaModuleNames.PeftName(module.Component, module.ModulePath);
            tensors.Add(new(name + ".lora_A.weight", module.Down.contiguous()));
            tensors.Add(new(name + ".lora_B.weight", module.Up.contiguous()));
        }

        var metadata = new Dictionary<string, string>(extraMetadata ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            ["format"] = "pt",
            [PeftAdapterMetadata.Key] = PeftAdapterMetadata.Write(modules.Select(m => (m.Component, m.ModulePath, m.Rank, m.Alpha))),
        };
        SafetensorsWriter.Save(path, tensors, metadata);
        return metadata;
    }
}
