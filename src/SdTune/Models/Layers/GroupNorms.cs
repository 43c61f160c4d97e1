using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>Creates GroupNorm layers with their affine parameters initialised.</summary>
internal static class GroupNorms
{
    /// <summary>
    /// A GroupNorm with weight = 1 and bias = 0. TorchSharp 0.107 allocates these parameters with
    /// <c>empty</c> and never initialises them, so a freshly built model would start from garbage.
    /// </summary>
    public static GroupNorm Create(long groups, long channels, double eps)
    {
        if (groups <= 0 || channels % groups != 0)
        {
            throw new ArgumentException($"GroupNorm: {channels} channels cannot be split into {groups} groups.");
        }

        var norm = nn.GroupNorm(groups, channels, eps, affine: true);
        using (no_grad())
        {
            nn.init.ones_(norm.weight!);
            nn.init.zeros_(norm.bias!);
        }

        return norm;
    }
}
