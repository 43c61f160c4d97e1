using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>Copies tensors from a safetensors file into a module's parameters and buffers, matched by state-dict name.</summary>
internal static class StateDictLoader
{
    /// <summary>
    /// Loads every state-dict entry of <paramref name="module"/> from <paramref name="file"/> (shape-checked,
    /// converted to the parameter's type). Strict: a name missing from the file, or a file tensor that the
    /// module does not have, is an error that lists the names.
    /// </summary>
    /// <param name="module">The module to fill.</param>
    /// <param name="file">The checkpoint.</param>
    /// <param name="prefix">Only file tensors starting with this prefix belong to the module; it is stripped from their names.</param>
    /// <param name="ignoreUnexpected">File tensors (after the prefix) for which this returns true are not reported as unexpected.</param>
    /// <exception cref="CheckpointFormatException">Missing or unexpected tensors, or a shape mismatch.</exception>
    public static void Load(nn.Module module, SafetensorsFile file, string prefix = "", Func<string, bool>? ignoreUnexpected = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(file);
        var expected = module.state_dict();
        var available = file.Tensors
            .Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal))
            .Select(t => t.Name[prefix.Length..])
            .ToHashSet(StringComparer.Ordinal);
        var missing = expected.Keys.Where(k => !available.Contains(k)).ToList();
        var unexpected = available.Where(k => !expected.ContainsKey(k) && !(ignoreUnexpected?.Invoke(k) ?? false)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            throw new CheckpointFormatException(file.Path, $"does not match the {module.GetName()} model: {Describe("missing", missing, prefix)}{(missing.Count > 0 && unexpected.Count > 0 ? "; " : "")}{Describe("unexpected", unexpected, prefix)}.");
        }

        foreach (var (name, tensor) in expected)
        {
            file.ReadInto(prefix + name, tensor);
        }
    }

    private static string Describe(string kind, List<string> names, string prefix)
    {
        if (names.Count == 0)
        {
            return "";
        }

        const int Shown = 8;
        var listed = string.Join(", ", names.Take(Shown).Select(n => prefix + n));
        return $"{names.Count} {kind} tensor(s) ({listed}{(names.Count > Shown ? ", ..." : "")})";
    }
}
