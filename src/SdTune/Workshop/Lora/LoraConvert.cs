using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Models;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>
/// <c>sdtune lora convert</c>: rewrites a LoRA file between the kohya/A1111 layout and the diffusers/PEFT layout
/// (<see cref="LoraLayout"/>), moving the stored factors unchanged (same numbers, same types), so a round trip gives
/// the same tensors and the same deltas bit for bit. Alpha travels as kohya's 0-d <c>alpha</c> tensors one way and as
/// diffusers' <see cref="PeftAdapterMetadata"/> (<c>lora_alpha</c>/<c>alpha_pattern</c>, what <c>load_lora_weights</c>
/// configures PEFT from) the other; <c>foldAlpha</c> instead multiplies alpha/rank into the up factors and writes
/// alpha = rank, for loaders that ignore that metadata (exact up to one rounding of each up weight).
/// </summary>
public static class LoraConvert
{
    /// <summary>Converts <paramref name="source"/> for the models of <paramref name="architecture"/> (built on the meta device; null detects it from the file).</summary>
    /// <param name="source">The LoRA file (any layout <see cref="LoraFileReader"/> reads).</param>
    /// <param name="destination">The <c>.safetensors</c> file to write; never the source.</param>
    /// <param name="to">The layout to write; null writes the other one than the source's.</param>
    /// <param name="architecture">The model family; null to detect it.</param>
    /// <param name="foldAlpha">For PEFT output: fold alpha/rank into the up factors.</param>
    /// <param name="overwrite">Replace an existing destination.</param>
    /// <exception cref="ArgumentException">The destination is the source or exists, the family cannot be told, nothing matches, or a module has no form in the target layout.</exception>
    public static LoraConvertResult Run(string source, string destination, LoraLayout? to, SdArchitecture? architecture, bool foldAlpha = false, bool overwrite = false)
    {
        LoraToolFiles.CheckOutput(source, destination, overwrite);
        using var file = TensorSources.Open(source);
        using var targets = LoraFileTargets.Create(architecture ?? LoraFileTargets.Detect(file));
        return Write(file, destination, targets.Targets, to, foldAlpha);
    }

    /// <summary>Converts <paramref name="source"/> for <paramref name="targets"/> (any models, meta-device ones included).</summary>
    /// <exception cref="ArgumentException">The destination is the source or exists, nothing matches, or a module has no form in the target layout.</exception>
    public static LoraConvertResult Run(string source, string destination, LoraTargets targets, LoraLayout? to, bool foldAlpha = false, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(targets);
        LoraToolFiles.CheckOutput(source, destination, overwrite);
        using var file = TensorSources.Open(source);
        return Write(file, destination, targets, to, foldAlpha);
    }

    private static LoraConvertResult Write(ITensorSource file, string destination, LoraTargets targets, LoraLayout? to, bool foldAlpha)
    {
        var (modules, unmatched) = LoraFileModules.Match(file, targets);
        if (modules.Count == 0)
        {
            throw new ArgumentException($"{file.Path}: no tensor matches a layer of {targets.Architecture} models ({file.Entries.Count} tensors); is it a LoRA for another model family? Give --architecture.");
        }

        var from = modules.All(m => m.HasKohyaName) ? LoraLayout.Kohya : LoraLayout.Peft;
        var layout = to ?? (from == LoraLayout.Kohya ? LoraLayout.Peft : LoraLayout.Kohya);
        var peft = PeftAdapterMetadata.Read(file.Metadata, file.Path);
        var carried = LoraToolFiles.CarriedMetadata(file.Metadata);
        using var scope = NewDisposeScope();
        if (layout == LoraLayout.Peft)
        {
            var loras = modules.Select(m => ReadLora(file, m, peft, foldAlpha)).ToList();
            PeftLoraFormat.Save(destination, loras, carried);
        }
        else
        {
            var tensors = new List<KeyValuePair<string, Tensor>>();
            LoraModuleTensors? first = null;
            foreach (var module in modules)
            {
                if (module.Algorithm != LoraModule.Algorithm)
                {
                    // LyCORIS modules have only the kohya form: their tensors move under the kohya name.
                    tensors.AddRange(module.Tensors.Select(kv => new KeyValuePair<string, Tensor>(module.KohyaName + "." + kv.Key, file.Read(kv.Value))));
                    continue;
                }

                var lora = ReadLora(file, module, peft, foldAlpha: false);
                first ??= lora;
                var alpha = module.Tensors.TryGetValue("alpha", out var alphaName) ? file.Read(alphaName) : LoraToolFiles.AlphaTensor(lora.Alpha, lora.Down.dtype);
                tensors.Add(new(module.KohyaName + ".lora_down.weight", lora.Down));
                tensors.Add(new(module.KohyaName + ".lora_up.weight", lora.Up));
                tensors.Add(new(module.KohyaName + ".alpha", alpha));
            }

            // The keys kohya files always carry, where the source has none of its own.
            var minimum = KohyaLoraFormat.MinimumKeys(targets.Architecture, first?.Rank ?? 0, first?.Alpha ?? 0, Path.GetFileNameWithoutExtension(destination));
            foreach (var (key, value) in minimum.TrainingKeys.Concat(minimum.OtherKeys))
            {
                carried.TryAdd(key, value);
            }

            LoraToolFiles.SaveKohya(destination, tensors, carried);
        }

        return new LoraConvertResult(targets.Architecture, from, layout, modules.Count, unmatched);
    }

    // A LoRA module's factors as stored, its rank, and its alpha: the alpha tensor, else the PEFT config's, else the rank.
    private static LoraModuleTensors ReadLora(ITensorSource file, LoraStoredModule module, PeftAdapterMetadata? peft, bool foldAlpha)
    {
        if (module.Algorithm != LoraModule.Algorithm)
        {
            throw new ArgumentException($"{file.Path}: module '{module.StoredName}' is {module.Algorithm.Name}, which has no diffusers/PEFT LoRA form; only LoRA/LoCon modules convert to it.");
        }

        var down = file.Read(module.Tensors["lora_down.weight"]);
        var up = file.Read(module.Tensors["lora_up.weight"]);
        CheckShapes(file.Path, module, down, up);
        var rank = (int)down.shape[0];
        var alpha = module.Tensors.TryGetValue("alpha", out var alphaName) ? LoraToolFiles.Scalar(file, alphaName)
            : !module.HasKohyaName && peft?.AlphaOf(module.Component, module.ModulePath) is { } configured ? configured
            : rank;
        if (foldAlpha && alpha != rank)
        {
            up = (up.to(ScalarType.Float64) * (alpha / rank)).to(up.dtype);
            alpha = rank;
        }

        return new LoraModuleTensors(module.Component, module.ModulePath, down, up, alpha);
    }

    private static void CheckShapes(string path, LoraStoredModule module, Tensor down, Tensor up)
    {
        var layer = module.Layer;
        if (down.dim() < 2 || up.dim() < 2 || down.shape[1] != layer.InFeatures || up.shape[0] != layer.OutFeatures || up.shape[1] != down.shape[0])
        {
            throw new ArgumentException($"{path}: module '{module.StoredName}' has down [{string.Join(", ", down.shape)}] and up [{string.Join(", ", up.shape)}], which do not fit a layer with weight [{string.Join(", ", layer.WeightShape)}]; is the LoRA for another model family (--architecture)?");
        }
    }
}
