using static TorchSharp.torch;

namespace SdTune.Runtime;

/// <summary>The live tensors behind a module's state dict, by name (no copies).</summary>
public static class ModuleTensors
{
    /// <summary>The parameters and persistent buffers of <paramref name="module"/>: what its state dict holds.</summary>
    /// <param name="module">The module.</param>
    public static Dictionary<string, Tensor> Of(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in module.named_parameters())
        {
            targets[name] = parameter;
        }

        foreach (var (name, buffer) in module.named_buffers(include_nonpersistent: false))
        {
            targets[name] = buffer;
        }

        return targets;
    }
}
