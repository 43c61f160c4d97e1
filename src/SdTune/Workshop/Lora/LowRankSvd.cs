using System.Globalization;
using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>
/// The one low-rank factorisation the LoRA tools share (merge by SVD, resize, extract): a truncated SVD of a weight
/// delta, the rank chosen by a <see cref="LowRankRule"/>, both factors optionally clamped as kohya's tools do, and the
/// relative Frobenius error of an approximation.
/// </summary>
public static class LowRankSvd
{
    /// <summary>The option that sets the clamp quantile, named in error messages.</summary>
    public const string ClampOption = "--clamp-quantile";

    /// <summary>
    /// Factors <paramref name="matrix"/> ([m, n]; a convolution's delta flattened to [out, in·kh·kw]) as
    /// <c>Up · Down</c> of the rank <paramref name="rule"/> chooses. With <paramref name="clampQuantile"/> below 1 every
    /// value of both factors is clamped to ±(the <paramref name="clampQuantile"/> quantile of their values together),
    /// as kohya's <c>--clamp_quantile</c>; 1 leaves them exact.
    /// </summary>
    /// <param name="matrix">The matrix (any floating type; computed in float32).</param>
    /// <param name="rule">The rank rule.</param>
    /// <param name="clampQuantile">In (0, 1].</param>
    /// <param name="module">The module's name, for error messages.</param>
    /// <param name="bound">The most the rank can usefully be besides the matrix's dimension (a LoRA's own rank); null for none.</param>
    /// <exception cref="ArgumentException">A fixed rank above the matrix's dimension (the message names the option and the module), or a clamp quantile out of range.</exception>
    public static LowRankFactors Factor(Tensor matrix, LowRankRule rule, double clampQuantile, string module, int? bound = null)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(rule);
        CheckClampQuantile(clampQuantile);
        if (matrix.dim() != 2)
        {
            throw new ArgumentException($"Module '{module}': a low-rank factorisation needs a matrix, got shape [{string.Join(", ", matrix.shape)}].");
        }

        var dimension = (int)Math.Min(matrix.shape[0], matrix.shape[1]);
        if (!rule.IsDynamic && rule.Rank > dimension)
        {
            throw new ArgumentException($"{rule.RankOption} {rule.Rank} is above the dimension of module '{module}' ({matrix.shape[0]}x{matrix.shape[1]}, at most rank {dimension}).");
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (u, s, vh) = linalg.svd(matrix.detach().to(ScalarType.Float32), fullMatrices: false);
        var values = s.to(ScalarType.Float64).cpu().data<double>().ToArray();
        var rank = rule.Choose(values, Math.Min(dimension, bound ?? int.MaxValue));
        var up = u.narrow(1, 0, rank) * s.narrow(0, 0, rank).unsqueeze(0);
        var down = vh.narrow(0, 0, rank);
        if (clampQuantile < 1)
        {
            var limit = Quantile(cat([up.flatten(), down.flatten()]), clampQuantile);
            if (limit > 0)
            {
                up = up.clamp(-limit, limit);
                down = down.clamp(-limit, limit);
            }
        }

        var total = values.Sum(v => v * v);
        var retained = total > 0 ? Math.Sqrt(Math.Min(1.0, values.Take(rank).Sum(v => v * v) / total)) : 1.0;
        return new LowRankFactors(up.contiguous().MoveToOuterDisposeScope(), down.contiguous().MoveToOuterDisposeScope(), retained);
    }

    /// <summary>
    /// <c>‖exact − approximation‖_F / ‖exact‖_F</c>, computed in float64; 0 when both are zero (and 1 when only the
    /// exact one is, so a spurious approximation is not hidden).
    /// </summary>
    public static double RelativeError(Tensor exact, Tensor approximation)
    {
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentNullException.ThrowIfNull(approximation);
        using var scope = NewDisposeScope();
        var e = exact.detach().to(ScalarType.Float64);
        var norm = e.norm().item<double>();
        var difference = (e - approximation.detach().to(ScalarType.Float64, e.device)).norm().item<double>();
        return norm > 0 ? difference / norm : difference > 0 ? 1.0 : 0.0;
    }

    /// <summary>Checks a clamp quantile; the message names the option.</summary>
    /// <exception cref="ArgumentException">Not in (0, 1].</exception>
    public static void CheckClampQuantile(double clampQuantile)
    {
        if (clampQuantile is not (> 0 and <= 1))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{ClampOption} must be in (0, 1], got {clampQuantile}."));
        }
    }

    // The q-quantile of the values, linearly interpolated between order statistics (torch.quantile's default).
    private static double Quantile(Tensor values, double q)
    {
        var (sorted, _) = values.to(ScalarType.Float64).sort();
        var n = sorted.shape[0];
        var position = q * (n - 1);
        var below = (long)Math.Floor(position);
        var above = Math.Min(below + 1, n - 1);
        var low = sorted[below].item<double>();
        var high = sorted[above].item<double>();
        return low + ((high - low) * (position - below));
    }
}
