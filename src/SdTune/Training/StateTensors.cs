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
