using SdTune.Checkpoints.Safetensors;
using SdTune.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Checkpoints;

/// <summary>Building modules for loading, and streaming a module's state dict into a safetensors file.</summary>
internal static class ModuleFiles
{
    /// <summary>Builds a module on the meta device and gives it uninitialised memory of <paramref name="dtype"/>: the
    /// caller must fill every tensor (strict loading).</summary>
    public static T BuildEmpty<T>(Func<T> construct, ScalarType dtype)
        where T : nn.Module
    {
        var module = ModuleMaterializer.OnMeta(construct);
        try
        {
            ModuleMaterializer.MaterializeEmpty(module, dtype);
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>Builds a module and loads it strictly from a weight file of any format.</summary>
    public static T Load<T>(Func<T> construct, string weights, ScalarType dtype, Func<string, bool>? ignore = null)
        where T : nn.Module
    {
        var module = BuildEmpty(construct, dtype);
        try
        {
            using var source = TensorSources.Open(weights);
            ModuleWeights.Load(module, source, strict: true, ignore);
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>The stored type of a tensor saved with an optional target type (applied to floating-point tensors only).</summary>
    public static ScalarType SavedType(ScalarType type, ScalarType? target) =>
        target is { } t && IsFloating(type) ? t : type;

    /// <summary>A tensor converted for saving: a new handle the caller disposes (the original is not affected).</summary>
    public static Tensor ForSaving(Tensor tensor, ScalarType? target)
    {
        var detached = tensor.detach();
        var type = SavedType(detached.dtype, target);
        if (type == detached.dtype)
        {
            return detached;
        }

        using (detached)
        {
            return detached.to(type);
        }
    }

    /// <summary>Writes the module's parameters and persistent buffers as one safetensors file, tensor by tensor.</summary>
    public static void SaveSafetensors(nn.Module module, string path, ScalarType? dtype, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var targets = Runtime.ModuleTensors.Of(module).ToList();
        var layout = targets.Select(t => new SafetensorsTensorLayout(t.Key, SafetensorsDTypes.FromScalarType(SavedType(t.Value.dtype, dtype)), t.Value.shape)).ToList();
        SafetensorsWriter.Save(path, layout, i => ForSaving(targets[i].Value, dtype), metadata);
    }

    private static bool IsFloating(ScalarType type) =>
        type is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64;
}
