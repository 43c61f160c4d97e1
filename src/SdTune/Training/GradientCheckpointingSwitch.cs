using System.Reflection;
using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>
/// Turns gradient checkpointing on for the modules that support it: those with a public writable boolean
/// <c>GradientCheckpointing</c> property. Models without one train as usual; the caller warns.
/// </summary>
internal static class GradientCheckpointingSwitch
{
    public static bool TryEnable(nn.Module module)
    {
        var property = module.GetType().GetProperty("GradientCheckpointing", BindingFlags.Public | BindingFlags.Instance);
        if (property is null || property.PropertyType != typeof(bool) || !property.CanWrite)
        {
            return false;
        }

        property.SetValue(module, true);
        return true;
    }
}
