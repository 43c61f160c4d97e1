using System.Globalization;
using SdTune.Adapters.Formats;

namespace SdTune.Adapters;

/// <summary>
/// Per-block LoRA weights as the A1111 "LoRA block weight" extension defines them. Vectors of 26 values cover
/// <c>BASE, IN00…IN11, M00, OUT00…OUT11</c> of the original UNet layout; shorter vectors name a subset and leave every
/// other block at 0: 17 (SD 1.x/2.x blocks with attention: <c>BASE, IN01, IN02, IN04, IN05, IN07, IN08, M00,
/// OUT03…OUT11</c>), 12 (SDXL: <c>BASE, IN04, IN05, IN07, IN08, M00, OUT00…OUT05</c>), 20 (SDXL LyCORIS: <c>BASE,
/// IN00…IN08, M00, OUT00…OUT08</c>). <c>BASE</c> weights the text encoders. UNet layers outside the numbered blocks
/// (time embedding, output norm/conv) keep weight 1.
/// </summary>
public sealed class LoraBlockWeights
{
    private const int Slots = 26;
    private const int Middle = 13;
    private readonly double[] weights;
    private readonly KohyaModuleNames names;

    /// <summary>Expands <paramref name="vector"/> to the 26 slots.</summary>
    /// <exception cref="ArgumentException">The length is not 12, 17, 20 or 26.</exception>
    public LoraBlockWeights(LoraTargets targets, IReadOnlyList<double> vector)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(vector);
        int[] slots = vector.Count switch
        {
            26 => [.. Enumerable.Range(0, Slots)],
            17 => [0, 2, 3, 5, 6, 8, 9, Middle, 17, 18, 19, 20, 21, 22, 23, 24, 25],
            12 => [0, 5, 6, 8, 9, Middle, 14, 15, 16, 17, 18, 19],
            20 => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, Middle, 14, 15, 16, 17, 18, 19, 20, 21, 22],
            _ => throw new ArgumentException($"Block weights need 12, 17, 20 or 26 values, got {vector.Count}.", nameof(vector)),
        };
        weights = new double[Slots];
        for (var i = 0; i < slots.Length; i++)
        {
            weights[slots[i]] = vector[i];
        }

        names = new KohyaModuleNames(targets);
    }

    /// <summary>The weight of the text encoders (slot BASE).</summary>
    public double Base => weights[0];

    /// <summary>The weight of the UNet layer at a diffusers module path.</summary>
    public double WeightOf(string unetModulePath)
    {
        var original = names.OriginalPath(unetModulePath);
        if (original is null)
        {
            return 1.0;
        }

        if (original.StartsWith("middle_block.", StringComparison.Ordinal))
        {
            return weights[Middle];
        }

        foreach (var (prefix, first) in new[] { ("input_blocks.", 1), ("output_blocks.", 14) })
        {
            if (original.StartsWith(prefix, StringComparison.Ordinal))
            {
                var rest = original[prefix.Length..];
                var block = int.Parse(rest[..rest.IndexOf('.', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
                return block < 12 ? weights[first + block] : 1.0;
            }
        }

        return 1.0;
    }
}
