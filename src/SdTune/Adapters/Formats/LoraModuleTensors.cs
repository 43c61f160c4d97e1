using static TorchSharp.torch;

namespace SdTune.Adapters.Formats;

/// <summary>One LoRA module's factors as a file stores them (their own types, not converted), with its alpha.</summary>
/// <param name="Component">Which model the layer belongs to.</param>
/// <param name="ModulePath">The layer's dotted path in that model.</param>
/// <param name="Down">The down (A) factor, [r, in] or [r, in, kh, kw].</param>
/// <param name="Up">The up (B) factor, [out, r] or [out, r, 1, 1].</param>
/// <param name="Alpha">The alpha: the delta is <c>(Alpha / r) · Up · Down</c>.</param>
public sealed record LoraModuleTensors(LoraComponent Component, string ModulePath, Tensor Down, Tensor Up, double Alpha)
{
    /// <summary>The rank r.</summary>
    public int Rank => (int)Down.shape[0];
}
