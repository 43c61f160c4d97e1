using System.Reflection;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Runtime;

/// <summary>
/// Builds large modules without paying for random initialisation. A model is constructed on the meta device
/// (shapes only, no memory), then <see cref="MaterializeEmpty"/> gives every parameter and buffer real but
/// uninitialised CPU memory, into which weights are read straight from the file. Random initialisation of a
/// full-size UNet costs longer than reading its weights, and it would be overwritten anyway.
/// </summary>
public static class ModuleMaterializer
{
    private static readonly MethodInfo RegisterParameter = typeof(nn.Module).GetMethod("ConditionallyRegisterParameter", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, [typeof(string), typeof(Tensor)])
        ?? throw new MissingMethodException("TorchSharp's Module.ConditionallyRegisterParameter(string, Tensor) was not found; the TorchSharp version is not the one SdTune was built for.");

    private static readonly MethodInfo RegisterBuffer = typeof(nn.Module).GetMethod("ConditionallyRegisterBuffer", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, [typeof(string), typeof(Tensor), typeof(bool)])
        ?? throw new MissingMethodException("TorchSharp's Module.ConditionallyRegisterBuffer(string, Tensor, bool) was not found; the TorchSharp version is not the one SdTune was built for.");

    /// <summary>Constructs a module on the meta device: parameters have shapes but no memory and no initialisation cost.</summary>
    /// <typeparam name="T">The module type.</typeparam>
    /// <param name="construct">Builds the module.</param>
    public static T OnMeta<T>(Func<T> construct)
    {
        ArgumentNullException.ThrowIfNull(construct);
        set_default_device(META);
        try
        {
            return construct();
        }
        finally
        {
            set_default_device(CPU);
        }
    }

    /// <summary>
    /// Replaces every meta-device parameter and buffer of <paramref name="module"/> (recursively) with an
    /// uninitialised CPU tensor of the same shape. The caller must then fill every one of them (strict loading).
    /// </summary>
    /// <param name="module">A module built with <see cref="OnMeta{T}"/>.</param>
    /// <param name="dtype">Element type of the new floating-point tensors; null keeps each tensor's type.</param>
    public static void MaterializeEmpty(nn.Module module, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        foreach (var (_, child) in module.named_modules())
        {
            MaterializeOwn(child, dtype);
        }

        MaterializeOwn(module, dtype);
    }

    private static void MaterializeOwn(nn.Module module, ScalarType? dtype)
    {
        var fields = AllFields(module.GetType());
        foreach (var (name, parameter) in module.named_parameters(recurse: false).ToList())
        {
            if (parameter.device_type != TorchSharp.DeviceType.META)
            {
                continue;
            }

            var type = dtype is { } d && parameter.is_floating_point() ? d : parameter.dtype;
            var replacement = new Parameter(empty(parameter.shape, type, CPU), parameter.requires_grad);
            // Some built-in modules (Embedding) keep the parameter in the native module behind a property setter.
            var property = module.GetType().GetProperty(name, BindingFlags.Instance | BindingFlags.Public);
            if (property is { CanWrite: true } && property.PropertyType == typeof(Parameter))
            {
                property.SetValue(module, replacement);
            }

            foreach (var field in fields.Where(f => ReferenceEquals(f.GetValue(module), parameter)))
            {
                field.SetValue(module, replacement);
            }

            RegisterParameter.Invoke(module, [name, replacement]);
        }

        foreach (var (name, buffer) in module.named_buffers(recurse: false).ToList())
        {
            if (buffer.device_type != TorchSharp.DeviceType.META)
            {
                continue;
            }

            var type = dtype is { } d && buffer.is_floating_point() ? d : buffer.dtype;
            var replacement = empty(buffer.shape, type, CPU);
            foreach (var field in fields.Where(f => ReferenceEquals(f.GetValue(module), buffer)))
            {
                field.SetValue(module, replacement);
            }

            var persistent = module.named_buffers(recurse: false, include_nonpersistent: false).Any(b => b.name == name);
            RegisterBuffer.Invoke(module, [name, replacement, persistent]);
        }
    }

    private static List<FieldInfo> AllFields(Type? type)
    {
        var fields = new List<FieldInfo>();
        for (; type is not null && type != typeof(object); type = type.BaseType)
        {
            fields.AddRange(type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Where(f => typeof(Tensor).IsAssignableFrom(f.FieldType)));
        }

        return fields;
    }
}
