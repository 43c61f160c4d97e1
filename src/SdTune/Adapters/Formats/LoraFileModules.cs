using SdTune.Checkpoints;

namespace SdTune.Adapters.Formats;

/// <summary>
/// Groups the tensors of an adapter file of any layout into modules and matches them to the layers of a set of models,
/// without reading a tensor: module names are matched against every name each layout gives each Linear/Conv2d of the
/// models (<see cref="KohyaModuleNames"/>), tensor-name endings against the algorithms' own names and the
/// diffusers/PEFT spellings. Models built on the meta device are enough.
/// </summary>
public static class LoraFileModules
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

    /// <summary>Matches the tensors of <paramref name="file"/> to the layers of <paramref name="targets"/>.</summary>
    /// <returns>The modules in file order, and the tensor names that fit no layer or no algorithm, in file order.</returns>
    public static (IReadOnlyList<LoraStoredModule> Modules, IReadOnlyList<string> Unmatched) Match(ITensorSource file, LoraTargets targets)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(targets);
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

        var unmatched = new HashSet<string>(StringComparer.Ordinal);
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

        var modules = new List<LoraStoredModule>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var moduleKey in order)
        {
            var group = groups[moduleKey];
            var algorithm = AdapterAlgorithms.Detect(group.Keys.ToHashSet());
            if (!layers.TryGetValue(moduleKey, out var target) || algorithm is null)
            {
                unmatched.UnionWith(group.Values);
                continue;
            }

            var kohyaName = names.Name(target.Component, target.Path);
            if (!used.Add(kohyaName))
            {
                unmatched.UnionWith(group.Values);
                continue;
            }

            unmatched.UnionWith(group.Where(kv => !algorithm.TensorNames.Contains(kv.Key)).Select(kv => kv.Value));
            var tensors = group.Where(kv => algorithm.TensorNames.Contains(kv.Key)).ToDictionary(StringComparer.Ordinal);
            modules.Add(new LoraStoredModule(moduleKey, target.Component, target.Path, kohyaName, target.Layer, algorithm, tensors));
        }

        return (modules, [.. file.Entries.Select(t => t.Name).Where(unmatched.Contains)]);
    }
}
