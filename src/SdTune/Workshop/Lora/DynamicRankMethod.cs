namespace SdTune.Workshop.Lora;

/// <summary>
/// How a low-rank factorisation chooses each module's rank from its singular values, as kohya's
/// <c>--dynamic_method</c> does; the chosen rank never exceeds the rank the rule is capped at.
/// </summary>
public enum DynamicRankMethod
{
    /// <summary>The same fixed rank for every module.</summary>
    None,

    /// <summary><c>sv_ratio</c>: keep the singular values that are at least the largest one divided by the parameter (≥ 1).</summary>
    SvRatio,

    /// <summary><c>sv_fro</c>: the smallest rank whose singular values keep at least the parameter (in (0, 1]) of the Frobenius norm.</summary>
    SvFro,

    /// <summary><c>sv_cumulative</c>: the smallest rank whose singular values sum to at least the parameter (in (0, 1]) of their total.</summary>
    SvCumulative,
}
