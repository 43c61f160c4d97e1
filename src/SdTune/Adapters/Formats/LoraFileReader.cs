using SdTune.Checkpoints;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Adapters.Formats;

/// <summary>
/// Reads adapter files of every common layout onto our models: kohya LoRA/LoCon (alpha optional: missing means
/// alpha = rank), LyCORIS LoHa/LoKr, and diffusers/PEFT files (<c>lora_A</c>/<c>lora_B</c>, <c>lora.down</c>/<c>lora.up</c>,
/// <c>lora_linear_layer</c>, prefixes <c>unet.</c>/<c>text_encoder.</c>/<c>text_encoder_2.</c>; PEFT files carry no alpha
/// tensor, so alpha comes from diffusers' <see cref="PeftAdapterMetadata"/> when the file has it, else alpha = rank).
/// Which tensors belong to which layer is <see cref="LoraFileModules"/>.
/// </summary>
public static class LoraFileReader
{
    /// <summary>
    /// Reads <paramref name="path"/> for <paramref name="targets"/>: safetensors or a PyTorch pickle (<c>.pt</c>/<c>.ckpt</c>,
    /// read by the restricted unpickler), told apart by content, not by extension.
    /// </summary>
    /// <exception cref="ArgumentException">A module's tensors do not fit its layer; the message names the module.</exception>
    /// <exception cref="CheckpointFormatException">The file is corrupt, of no known format, or a pickle naming a refused global.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static LoraFile Read(string path, LoraTargets targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        using var file = TensorSources.Open(path);
        var (modules, unmatched) = LoraFileModules.Match(file, targets);
        var peft = PeftAdapterMetadata.Read(file.Metadata, path);
        var entries = new List<LoraNetworkEntry>();
        foreach (var stored in modules)
        {
            var tensors = stored.Tensors.ToDictionary(kv => kv.Key, kv => ReadFloat32(file, kv.Value), StringComparer.Ordinal);
            if (!tensors.ContainsKey("alpha") && !stored.HasKohyaName && peft?.AlphaOf(stored.Component, stored.ModulePath) is { } alpha)
            {
                tensors["alpha"] = tensor((float)alpha, ScalarType.Float32);
            }

            AdapterModule module;
            try
            {
                module = stored.Algorithm.Load(stored.Layer, tensors, stored.StoredName);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{path}: {e.Message}", e);
            }
            finally
            {
                foreach (var t in tensors.Values)
                {
                    t.Dispose();
                }
            }

            entries.Add(new LoraNetworkEntry(stored.KohyaName, stored.Component, stored.ModulePath, module));
        }

        return new LoraFile(path, new LoraNetwork(targets.Architecture, entries), unmatched, file.Metadata);
    }

    private static Tensor ReadFloat32(ITensorSource file, string name)
    {
        var stored = file.Read(name);
        if (stored.dtype == ScalarType.Float32)
        {
            return stored;
        }

        using (stored)
        {
            return stored.to(ScalarType.Float32);
        }
    }
}
