using System.Globalization;

namespace SdTune.Workshop.Lora;

/// <summary>
/// How many singular values a module keeps: a fixed rank, or a dynamic method (<see cref="DynamicRankMethod"/>) that
/// chooses per module and is capped at <see cref="Rank"/>.
/// </summary>
/// <param name="Rank">The fixed rank, or the most a dynamic method may keep.</param>
/// <param name="Method">The dynamic method; <see cref="DynamicRankMethod.None"/> keeps <see cref="Rank"/> everywhere.</param>
/// <param name="Parameter">The dynamic method's parameter (kohya's <c>--dynamic_param</c>).</param>
/// <param name="RankOption">The option that set <see cref="Rank"/>, named in error messages (<c>--rank</c>, <c>--conv-rank</c>).</param>
public sealed record LowRankRule(int Rank, DynamicRankMethod Method = DynamicRankMethod.None, double Parameter = 0, string RankOption = "--rank")
{
    /// <summary>The option that sets the dynamic method's parameter, named in error messages.</summary>
    public const string ParameterOption = "--dynamic-param";

    /// <summary>Whether the rank is chosen per module.</summary>
    public bool IsDynamic => Method != DynamicRankMethod.None;

    /// <summary>Reads kohya's method names (<c>sv_ratio</c>, <c>sv_fro</c>, <c>sv_cumulative</c>); null or empty is <see cref="DynamicRankMethod.None"/>.</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the valid ones.</exception>
    public static DynamicRankMethod ParseMethod(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        null or "" or "none" => DynamicRankMethod.None,
        "sv_ratio" => DynamicRankMethod.SvRatio,
        "sv_fro" => DynamicRankMethod.SvFro,
        "sv_cumulative" => DynamicRankMethod.SvCumulative,
        _ => throw new ArgumentException($"--dynamic-method: unknown method '{name}'; valid: sv_ratio, sv_fro, sv_cumulative."),
    };

    /// <summary>Checks the rank and the parameter; messages name the options.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (Rank < 1)
        {
            throw new ArgumentException($"{RankOption} must be at least 1, got {Rank}.");
        }

        var valid = Method switch
        {
            DynamicRankMethod.None => true,
            DynamicRankMethod.SvRatio => Parameter >= 1,
            _ => Parameter is > 0 and <= 1,
        };
        if (!valid)
        {
            var range = Method == DynamicRankMethod.SvRatio ? "at least 1" : "in (0, 1]";
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{ParameterOption} for {MethodName(Method)} must be {range}, got {Parameter}."));
        }
    }

    /// <summary>
    /// The rank to keep for singular values <paramref name="singularValues"/> (descending), at most <paramref name="bound"/>
    /// (the matrix's dimension or the input's own rank) and at least 1.
    /// </summary>
    public int Choose(IReadOnlyList<double> singularValues, int bound)
    {
        ArgumentNullException.ThrowIfNull(singularValues);
        var wanted = Method switch
        {
            DynamicRankMethod.None => Rank,
            DynamicRankMethod.SvRatio => singularValues.Count(s => s > 0 && s >= singularValues[0] / Parameter),
            DynamicRankMethod.SvFro => SmallestPrefix(singularValues, s => s * s, Parameter * Parameter),
            DynamicRankMethod.SvCumulative => SmallestPrefix(singularValues, s => s, Parameter),
            _ => throw new InvalidOperationException($"Unknown dynamic method {Method}."),
        };
        return Math.Max(1, Math.Min(Math.Min(wanted, Rank), bound));
    }

    /// <summary>kohya's name of a method.</summary>
    public static string MethodName(DynamicRankMethod method) => method switch
    {
        DynamicRankMethod.SvRatio => "sv_ratio",
        DynamicRankMethod.SvFro => "sv_fro",
        DynamicRankMethod.SvCumulative => "sv_cumulative",
        _ => "none",
    };

    // The fewest leading values whose measure reaches the fraction of the total (all of them for a zero matrix).
    private static int SmallestPrefix(IReadOnlyList<double> values, Func<double, double> measure, double fraction)
    {
        var total = values.Sum(measure);
        if (total <= 0)
        {
            return 1;
        }

        var sum = 0.0;
        for (var i = 0; i < values.Count; i++)
        {
            sum += measure(values[i]);
            // A relative tolerance so that a fraction of 1 is reached despite rounding in the sum.
            if (sum >= (fraction * total) - (1e-12 * total))
            {
                return i + 1;
            }
        }

        return values.Count;
    }
}
