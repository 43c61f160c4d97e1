using TorchSharp;

namespace SdTune.Checkpoints.Pickle;

/// <summary>What an allow-listed global does when a pickle calls it.</summary>
internal enum AllowedGlobalKind
{
    OrderedDict,
    RebuildTensorV2,
    RebuildTensor,
    RebuildParameter,
    RebuildParameterWithState,
    TorchSize,
    CodecsEncode,
    Set,
    FrozenSet,
    NumpyScalar,

    /// <summary>Harmless metadata classes kept as <see cref="PickleObject"/> placeholders (never constructed).</summary>
    InertClass,

    /// <summary>A <c>torch.*Storage</c> class: only meaningful inside a persistent id, never called.</summary>
    StorageType,
}

/// <summary>
/// The allow-list of Python globals a checkpoint may name. Everything else is refused before anything else
/// happens; nothing on the list is executed either: each entry is interpreted by the reader as data.
/// </summary>
/// <remarks>
/// Besides the torch and container globals, SD checkpoints trained with Lightning name
/// <c>pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint</c> (as a dictionary key under "callbacks")
/// and numpy scalars/dtypes in its state; those become inert placeholders so such files load. numpy scalars of
/// the common dtypes are decoded to .NET numbers.
/// </remarks>
internal static class PickleGlobalPolicy
{
    private static readonly Dictionary<(string Module, string Name), AllowedGlobalKind> Allowed = new()
    {
        [("collections", "OrderedDict")] = AllowedGlobalKind.OrderedDict,
        [("typing", "OrderedDict")] = AllowedGlobalKind.OrderedDict,
        [("torch._utils", "_rebuild_tensor_v2")] = AllowedGlobalKind.RebuildTensorV2,
        [("torch._utils", "_rebuild_tensor")] = AllowedGlobalKind.RebuildTensor,
        [("torch._utils", "_rebuild_parameter")] = AllowedGlobalKind.RebuildParameter,
        [("torch._utils", "_rebuild_parameter_with_state")] = AllowedGlobalKind.RebuildParameterWithState,
        [("torch", "Size")] = AllowedGlobalKind.TorchSize,
        [("_codecs", "encode")] = AllowedGlobalKind.CodecsEncode,
        [("builtins", "set")] = AllowedGlobalKind.Set,
        [("__builtin__", "set")] = AllowedGlobalKind.Set,
        [("builtins", "frozenset")] = AllowedGlobalKind.FrozenSet,
        [("__builtin__", "frozenset")] = AllowedGlobalKind.FrozenSet,
        [("numpy.core.multiarray", "scalar")] = AllowedGlobalKind.NumpyScalar,
        [("numpy._core.multiarray", "scalar")] = AllowedGlobalKind.NumpyScalar,
        [("numpy", "dtype")] = AllowedGlobalKind.InertClass,
        [("numpy", "ndarray")] = AllowedGlobalKind.InertClass,
        [("numpy.core.multiarray", "_reconstruct")] = AllowedGlobalKind.InertClass,
        [("numpy._core.multiarray", "_reconstruct")] = AllowedGlobalKind.InertClass,
        [("pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint")] = AllowedGlobalKind.InertClass,
        // Textual-inversion embeddings saved with torch 1.11 (and the original TI repository) pickle
        // string_to_param as an nn.ParameterDict; its state (with "_parameters") is read as data.
        [("torch.nn.modules.container", "ParameterDict")] = AllowedGlobalKind.InertClass,
        [("lightning.pytorch.callbacks.model_checkpoint", "ModelCheckpoint")] = AllowedGlobalKind.InertClass,
    };

    private static readonly Dictionary<string, torch.ScalarType> DTypes = new()
    {
        ["float32"] = torch.ScalarType.Float32,
        ["float"] = torch.ScalarType.Float32,
        ["float16"] = torch.ScalarType.Float16,
        ["half"] = torch.ScalarType.Float16,
        ["bfloat16"] = torch.ScalarType.BFloat16,
        ["float64"] = torch.ScalarType.Float64,
        ["double"] = torch.ScalarType.Float64,
        ["int64"] = torch.ScalarType.Int64,
        ["long"] = torch.ScalarType.Int64,
        ["int32"] = torch.ScalarType.Int32,
        ["int"] = torch.ScalarType.Int32,
        ["int16"] = torch.ScalarType.Int16,
        ["short"] = torch.ScalarType.Int16,
        ["int8"] = torch.ScalarType.Int8,
        ["uint8"] = torch.ScalarType.Byte,
        ["bool"] = torch.ScalarType.Bool,
        ["complex64"] = torch.ScalarType.ComplexFloat32,
        ["complex128"] = torch.ScalarType.ComplexFloat64,
    };

    /// <summary>
    /// The value a GLOBAL opcode pushes: a <see cref="PickleGlobal"/> for allow-listed names, a boxed
    /// <see cref="torch.ScalarType"/> for <c>torch.float32</c>-style dtypes. Returns null for refused names.
    /// </summary>
    public static object? Resolve(string module, string name)
    {
        if (Allowed.ContainsKey((module, name)))
        {
            return new PickleGlobal(module, name);
        }

        if (module == "torch")
        {
            if (TorchStorageType.FromGlobalName(name) is not null)
            {
                return new PickleGlobal(module, name);
            }

            if (DTypes.TryGetValue(name, out var dtype))
            {
                return dtype;
            }
        }

        return null;
    }

    /// <summary>The behaviour of a global that <see cref="Resolve"/> returned.</summary>
    public static AllowedGlobalKind KindOf(PickleGlobal global) =>
        Allowed.TryGetValue((global.Module, global.Name), out var kind) ? kind : AllowedGlobalKind.StorageType;
}
