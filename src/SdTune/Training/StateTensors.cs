using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>Copies saved tensors back into live ones, checking names and shapes.</summary>
internal static class StateTensors
{
    /// <summary>Detached copies of a module's state dict, for a resumable state.</summary>
    /// <param name="module">The module (a LoRA network, a hypernetwork...).</param>
    public static IReadOnlyList<KeyValuePair<string, Tensor>> Copies(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return [.. module.state_dict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.detach().clone()))];
    }

    /// <summary>Detached copies of live tensors, their names prefixed with <paramref name="prefix"/>.</summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> Copies(IReadOnlyDictionary<string, Tensor> live, string prefix) =>
        live.Select(kv => new KeyValuePair<string, Tensor>(prefix + kv.Key, kv.Value.detach().clone()));

    /// <summary>A saved state split in two: the tensors named with <paramref name="prefix"/> (the prefix removed), and the others.</summary>
    public static (Dictionary<string, Tensor> Prefixed, Dictionary<string, Tensor> Others) Split(IReadOnlyDictionary<string, Tensor> saved, string prefix)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var prefixed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var others = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in saved)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                prefixed[name[prefix.Length..]] = tensor;
            }
            else
            {
                others[name] = tensor;
            }
        }

        return (prefixed, others);
    }

    /// <summary>Copies <paramref name="saved"/> into <paramref name="live"/>; both must hold the same names and shapes.</summary>
    /// <exception cref="InvalidDataException">A tensor is missing, unexpected or mis-shaped; the message names it.</exception>
    public static void CopyInto(IReadOnlyDictionary<string, Tensor> live, IReadOnlyDictionary<string, Tensor> saved, string what)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var missing = live.Keys.Where(k => !saved.ContainsKey(k)).ToList();
        var unexpected = saved.Keys.Where(k => !live.ContainsKey(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            throw new InvalidDataException(
                $"The saved {what} state does not match: " +
                (missing.Count > 0 ? $"missing {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : "")}" : "") +
                (missing.Count > 0 && unexpected.Count > 0 ? "; " : "") +
                (unexpected.Count > 0 ? $"unexpected {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? $" and {unexpected.Count - 5} more" : "")}" : "") + ".");
        }

        using var noGrad = no_grad();
        foreach (var (name, tensor) in live)
        {
            var source = saved[name];
            if (!source.shape.SequenceEqual(tensor.shape))
            {
                throw new InvalidDataException($"The saved {what} tensor '{name}' has shape [{string.Join(", ", source.shape)}], expected [{string.Join(", ", tensor.shape)}].");
            }

            tensor.copy_(source);
        }
    }
}
