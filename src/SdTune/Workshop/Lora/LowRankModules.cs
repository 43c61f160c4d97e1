using SdTune.Adapters;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>LoRA (LoCon for convolutions) modules made from low-rank factors, and weight deltas seen as matrices.</summary>
public static class LowRankModules
{
    /// <summary>
    /// A LoRA module on <paramref name="layer"/> whose delta is <c>scale · Up · Down</c>: <c>lora_down</c> is
    /// <see cref="LowRankFactors.Down"/> reshaped to the layer's kernel, <c>lora_up</c> is <see cref="LowRankFactors.Up"/>,
    /// and alpha is <c>scale · rank</c>.
    /// </summary>
    /// <param name="layer">The layer.</param>
    /// <param name="factors">Factors of the delta divided by <paramref name="scale"/> (see <see cref="Matrix"/>).</param>
    /// <param name="scale">The module's alpha / rank; positive.</param>
    public static LoraModule Create(AdaptedLayer layer, LowRankFactors factors, double scale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(factors);
        if (!(scale > 0) || double.IsInfinity(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale of a LoRA module must be positive and finite.");
        }

        var module = new LoraModule(layer, new AdapterSettings(factors.Rank, scale * factors.Rank));
        using var noGrad = no_grad();
        module.DownWeight.copy_(factors.Down.reshape(module.DownWeight.shape));
        module.UpWeight.copy_(factors.Up.reshape(module.UpWeight.shape));
        return module;
    }

    /// <summary>A weight delta as a matrix: [out, in] for Linear, [out, in·kh·kw] for Conv2d (a view where possible).</summary>
    public static Tensor Matrix(Tensor delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        return delta.flatten(1);
    }
}
