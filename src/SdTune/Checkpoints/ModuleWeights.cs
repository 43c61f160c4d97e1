using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Checkpoints;

/// <summary>
/// Copies named tensors (a state dict, a safetensors file) into a module's parameters and persistent
/// buffers by name, with strict checking. Names are the module's own state-dict names; the source may
/// carry them under a prefix (for example <c>cond_stage_model.transformer.</c> in a single-file SD
/// checkpoint). Everything is validated before the first tensor is copied, so a failed load leaves the
/// module untouched.
/// </summary>
public static class ModuleWeights
{
    private const int NamesShownPerList = 12;

    /// <summary>Loads <paramref name="module"/> from in-memory tensors (converted to each target's dtype and device).</summary>
    /// <param name="module">The module whose parameters and persistent buffers are overwritten.</param>
    /// <param name="source">Tensors by name.</param>
    /// <param name="strict">Fail when a module tensor has no value or the source has unexpected names.</param>
    /// <param name="ignore">Source names (prefix removed) to skip silently when they match no module tensor.</param>
    /// <param name="prefix">Only source names starting with this are considered; it is removed before matching.</param>
    /// <param name="sourceName">How error messages name the source.</param>
    /// <returns>What was loaded, missing, unexpected and ignored.</returns>
    /// <exception cref="CheckpointFormatException">A shape differs, or (strict) names are missing or unexpected.</exception>
    public static WeightLoadReport Load(
        nn.Module module,
        IReadOnlyDictionary<string, Tensor> source,
        bool strict = true,
        Func<string, bool>? ignore = null,
        string prefix = "",
        string sourceName = "state dict")
    {
        ArgumentNullException.ThrowIfNull(source);
        return Load(
            module,
            source.Keys,
            name => source[name].shape,
            (name, destination) => destination.copy_(source[name]),
            strict,
            ignore,
            prefix,
            sourceName);
    }

    /// <summary>Loads <paramref name="module"/> from a safetensors file, reading each tensor straight into its parameter.</summary>
    /// <param name="module">The module whose parameters and persistent buffers are overwritten.</param>
    /// <param name="file">The open file.</param>
    /// <param name="strict">Fail when a module tensor has no value or the file has unexpected names.</param>
    /// <param name="ignore">File names (prefix removed) to skip silently when they match no module tensor.</param>
    /// <param name="prefix">Only file names starting with this are considered; it is removed before matching.</param>
    /// <returns>What was loaded, missing, unexpected and ignored.</returns>
    /// <exception cref="CheckpointFormatException">A shape differs, or (strict) names are missing or unexpected; the message names the file.</exception>
    public static WeightLoadReport Load(
        nn.Module module,
        SafetensorsFile file,
        bool strict = true,
        Func<string, bool>? ignore = null,
        string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(file);
        return Load(
            module,
            file.Tensors.Select(t => t.Name),
            name => file.Info(name).ShapeArray,
            file.ReadInto,
            strict,
            ignore,
            prefix,
            file.Path,
            concurrent: true);
    }

    /// <summary>Loads <paramref name="module"/> from any tensor source (a file, shards, a pickle checkpoint), tensor by tensor.</summary>
    /// <param name="module">The module whose parameters and persistent buffers are overwritten.</param>
    /// <param name="source">The open source.</param>
    /// <param name="strict">Fail when a module tensor has no value or the source has unexpected names.</param>
    /// <param name="ignore">Source names (prefix removed) to skip silently when they match no module tensor.</param>
    /// <param name="prefix">Only source names starting with this are considered; it is removed before matching.</param>
    /// <returns>What was loaded, missing, unexpected and ignored.</returns>
    /// <exception cref="CheckpointFormatException">A shape differs, or (strict) names are missing or unexpected; the message names the source.</exception>
    public static WeightLoadReport Load(
        nn.Module module,
        ITensorSource source,
        bool strict = true,
        Func<string, bool>? ignore = null,
        string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(source);
        var shapes = source.Entries.ToDictionary(e => e.Name, e => e.Shape.ToArray(), StringComparer.Ordinal);
        return Load(module, shapes.Keys, name => shapes[name], source.ReadInto, strict, ignore, prefix, source.Path, source.SupportsConcurrentReads);
    }

    private static WeightLoadReport Load(
        nn.Module module,
        IEnumerable<string> sourceNames,
        Func<string, long[]> shapeOf,
        Action<string, Tensor> copyInto,
        bool strict,
        Func<string, bool>? ignore,
        string prefix,
        string sourceName,
        bool concurrent = false)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(prefix);
        var targets = Runtime.ModuleTensors.Of(module);

        var matched = new List<(string SourceKey, string Name)>();
        var unexpected = new List<string>();
        var ignored = new List<string>();
        var mismatches = new List<string>();
        foreach (var key in sourceNames)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var name = key[prefix.Length..];
            if (!targets.TryGetValue(name, out var target))
            {
                (ignore is not null && ignore(name) ? ignored : unexpected).Add(name);
                continue;
            }

            var shape = shapeOf(key);
            if (!shape.SequenceEqual(target.shape))
            {
                mismatches.Add($"'{key}' is {FormatShape(shape)} in the source but {FormatShape(target.shape)} in the model");
                continue;
            }

            matched.Add((key, name));
        }

        var loadedNames = new HashSet<string>(matched.Select(m => m.Name), StringComparer.Ordinal);
        var missing = targets.Keys.Where(n => !loadedNames.Contains(n)).ToList();

        var problems = new List<string>();
        if (mismatches.Count > 0)
        {
            problems.Add($"{mismatches.Count} shape mismatch(es): {JoinShort(mismatches)}");
        }

        if (strict && missing.Count > 0)
        {
            problems.Add($"{missing.Count} missing tensor(s): {JoinShort(missing.Select(n => prefix + n))}");
        }

        if (strict && unexpected.Count > 0)
        {
            problems.Add($"{unexpected.Count} unexpected tensor(s): {JoinShort(unexpected.Select(n => prefix + n))}");
        }

        if (problems.Count > 0)
        {
            throw new CheckpointFormatException(sourceName, $"cannot load weights into {module.GetType().Name}: {string.Join("; ", problems)}.");
        }

        using (no_grad())
        {
            // Safetensors reads are positional, so several threads can fill parameters at once (each reader
            // disables gradients itself; grad mode is per thread).
            Parallel.ForEach(matched, new ParallelOptions { MaxDegreeOfParallelism = concurrent ? Environment.ProcessorCount : 1 }, m => copyInto(m.SourceKey, targets[m.Name]));
        }

        return new WeightLoadReport([.. matched.Select(m => m.Name)], missing, unexpected, ignored);
    }

    private static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    private static string JoinShort(IEnumerable<string> items)
    {
        var list = items.ToList();
        var shown = string.Join(", ", list.Take(NamesShownPerList));
        return list.Count > NamesShownPerList ? $"{shown}, ... ({list.Count - NamesShownPerList} more)" : shown;
    }
}
