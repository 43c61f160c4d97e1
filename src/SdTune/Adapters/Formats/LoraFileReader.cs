using SdTune.Checkpoints;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Adapters.Formats;

/// <summary>
/// Reads adapter files of every common layout onto our models: kohya LoRA/LoCon (alpha optional: missing means
/// alpha = rank), LyCORIS LoHa/LoKr, and diffusers/PEFT files (<c>lora_A</c>/<c>lora_B</c>, <c>lora.down</c>/<c>lora.up</c>,
/// <c>lora_linear_layer</c>, prefixes <c>unet.</c>/<c>text_encoder.</c>/<c>text_encoder_2.</c>; PEFT files carry no alpha,
/// so alpha = rank). File module names are matched by enumerating every Linear/Conv2d of the models and building each
/// name every layout would give it (<see cref="KohyaModuleNames"/>), never by parsing names.
/// </summary>
public static class LoraFileReader
{
    // Stored tensor-name endings of the diffusers/PEFT layouts and what the algorithms call them.
    private static readonly (string Stored, string Canonical)[] ForeignSuffixes =
    [
        (".lora_linear_layer.down.weight", "lora_down.weight"),
        (".lora_linear_layer.up.weight", "lora_up.weight"),
        (".lora.down.weight", "lora_down.weight"),
        (".lora.up.weight", "lora_up.weight"),
        (".lora_A.weight", "lora_down.weight"),
        (".lora_B.weight", "lora_up.weight"),
        (".down.weight", "lora_down.weight"),
        (".up.weight", "lora_up.weight"),
    ];

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
        var names = new KohyaModuleNames(targets);
        var layers = new Dictionary<string, (LoraComponent Component, string Path, AdaptedLayer Layer)>(StringComparer.Ordinal);
        foreach (var component in targets.Present)
        {
            foreach (var (modulePath, layer) in LoraNetwork.AllLayers(targets.Get(component)!))
            {
                foreach (var alias in names.Aliases(component, modulePath))
                {
                    layers.TryAdd(alias, (component, modulePath, layer));
                }
            }
        }

        var suffixes = AdapterAlgorithms.All.SelectMany(a => a.TensorNames).Distinct()
            .Select(n => ("." + n, n)).Concat(ForeignSuffixes)
            .OrderByDescending(s => s.Item1.Length).ToList();

        var unmatched = new List<string>();
        var groups = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var info in file.Entries)
        {
            var suffix = suffixes.FirstOrDefault(s => info.Name.EndsWith(s.Item1, StringComparison.Ordinal));
            if (suffix.Item1 is null)
            {
                unmatched.Add(info.Name);
                continue;
            }

            var moduleKey = info.Name[..^suffix.Item1.Length];
            if (!groups.TryGetValue(moduleKey, out var group))
            {
                groups[moduleKey] = group = new Dictionary<string, string>(StringComparer.Ordinal);
                order.Add(moduleKey);
            }

            if (!group.TryAdd(suffix.Item2, info.Name))
            {
                unmatched.Add(info.Name);
            }
        }

        var entries = new List<LoraNetworkEntry>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var moduleKey in order)
        {
            var group = groups[moduleKey];
            var algorithm = AdapterAlgorithms.Detect(group.Keys.ToHashSet());
            if (!layers.TryGetValue(moduleKey, out var target) || algorithm is null)
            {
                unmatched.AddRange(group.Values);
                continue;
            }

            var kohyaName = names.Name(target.Component, target.Path);
            if (!used.Add(kohyaName))
            {
                unmatched.AddRange(group.Values);
                continue;
            }

            unmatched.AddRange(group.Where(kv => !algorithm.TensorNames.Contains(kv.Key)).Select(kv => kv.Value));
            var tensors = group.Where(kv => algorithm.TensorNames.Contains(kv.Key))
                .ToDictionary(kv => kv.Key, kv => ReadFloat32(file, kv.Value), StringComparer.Ordinal);
            AdapterModule module;
            try
            {
                module = algorithm.Load(target.Layer, tensors, moduleKey);
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

            entries.Add(new LoraNetworkEntry(kohyaName, target.Component, target.Path, module));
        }

        var network = new LoraNetwork(targets.Architecture, entries);
        var unmatchedInFileOrder = file.Entries.Select(t => t.Name).Where(unmatched.ToHashSet(StringComparer.Ordinal).Contains).ToList();
        return new LoraFile(path, network, unmatchedInFileOrder, file.Metadata);
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
