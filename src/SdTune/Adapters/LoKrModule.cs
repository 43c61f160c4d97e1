using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>
/// LoKr (LyCORIS, low-rank Kronecker product): <c>ΔW = kron(W1, W2) · scale</c> with <c>W1 = lokr_w1</c> or
/// <c>lokr_w1_a · lokr_w1_b</c> and <c>W2 = lokr_w2</c>, <c>lokr_w2_a · lokr_w2_b</c> (reshaped to [out2, in2, kh, kw] for
/// a convolution) or, with Tucker, <c>Σ t2[p,q,kh,kw] · w2_a[p,o] · w2_b[q,i]</c>. The scale is alpha/rank where the rank
/// is that of a decomposed factor; with both factors full it is 1. Fresh modules split the dimensions with LyCORIS'
/// <c>factorization(dim, factor)</c> rule and zero the W2 factor (<c>lokr_w2</c> or <c>lokr_w2_b</c>).
/// </summary>
public sealed class LoKrModule : AdapterModule
{
    private static readonly string[] Names = ["lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b", "lokr_t2"];

    private readonly Dictionary<string, Parameter> factors;
    private readonly int rank;
    private readonly double rankDropout;

    private LoKrModule(AdaptedLayer target, Dictionary<string, Parameter> factors, int rank, double alpha, double rankDropout, double moduleDropout)
        : base("lokr", target, alpha, moduleDropout)
    {
        this.factors = factors;
        this.rank = rank;
        this.rankDropout = rankDropout;
        RegisterFactors(factors, Names);
    }

    /// <summary>The algorithm's registration: recognised by <c>lokr_w1</c> or <c>lokr_w1_a</c>; kohya module <c>lycoris.kohya</c>.</summary>
    public static AdapterAlgorithm Algorithm { get; } = new(
        "lokr",
        "lycoris.kohya",
        [.. Names, "alpha"],
        keys => keys.Contains("lokr_w1") || keys.Contains("lokr_w1_a"),
        Create,
        FromTensors,
        ["lokr_w1", "lokr_w1_a"]);

    /// <inheritdoc />
    public override int Rank => rank;

    /// <summary>Whether both Kronecker factors are full matrices (then the scale is 1 whatever alpha says).</summary>
    public bool IsFullRank => factors.ContainsKey("lokr_w1") && factors.ContainsKey("lokr_w2");

    /// <inheritdoc />
    public override double Scale => IsFullRank ? 1.0 : base.Scale;

    /// <summary>
    /// LyCORIS' split of a dimension into m ≤ n with m·n = dim: (factor, dim/factor) when factor divides dim, otherwise
    /// the most balanced pair with m ≤ factor (factor ≤ 0: unbounded).
    /// </summary>
    public static (long M, long N) Factorize(long dim, int factor)
    {
        if (factor > 0 && dim % factor == 0)
        {
            var (a, b) = (factor, dim / factor);
            return a > b ? (b, a) : (a, b);
        }

        var bound = factor <= 0 ? dim : factor;
        long m = 1, n = dim;
        while (m < n)
        {
            var next = m + 1;
            while (dim % next != 0)
            {
                next++;
            }

            var pair = dim / next;
            if (next + pair > m + n || next > bound)
            {
                break;
            }

            (m, n) = (next, pair);
        }

        return m > n ? (n, m) : (m, n);
    }

    /// <inheritdoc />
    public override Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        var shape = Target.WeightShape;
        var w1 = factors.TryGetValue("lokr_w1", out var full1) ? (Tensor)full1 : factors["lokr_w1_a"].matmul(factors["lokr_w1_b"]);
        Tensor w2;
        if (factors.TryGetValue("lokr_w2", out var full2))
        {
            w2 = full2;
        }
        else if (factors.TryGetValue("lokr_t2", out var t2))
        {
            w2 = einsum("pqhw,po,qi->oihw", t2, factors["lokr_w2_a"], factors["lokr_w2_b"]);
        }
        else
        {
            w2 = factors["lokr_w2_a"].matmul(factors["lokr_w2_b"]);
            if (Target.IsConv)
            {
                w2 = w2.reshape(w2.shape[0], -1, shape[2], shape[3]);
            }
        }

        if (w2.dim() == 4 && w1.dim() == 2)
        {
            w1 = w1.unsqueeze(-1).unsqueeze(-1);
        }

        var delta = kron(w1.contiguous(), w2.contiguous()).reshape(shape) * Scale;
        if (training && rankDropout > 0)
        {
            var keep = (rand(shape[0], device: delta.device) > rankDropout).to(delta.dtype);
            delta = delta * keep.view([shape[0], .. Enumerable.Repeat(1L, shape.Length - 1)]);
        }

        return delta.MoveToOuterDisposeScope();
    }

    private static LoKrModule Create(AdaptedLayer target, AdapterSettings settings)
    {
        var r = settings.Rank;
        if (r < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), r, "The LoKr rank must be at least 1.");
        }

        var factor = settings.Integer("factor", -1);
        var (outL, outK) = Factorize(target.OutFeatures, factor);
        var (inM, inN) = Factorize(target.InFeatures, factor);
        if (settings.Flag("unbalanced_factorization"))
        {
            (outL, outK) = (outK, outL);
        }

        var fullMatrix = settings.Flag("full_matrix");
        var device = target.Weight.device;
        var f = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        Parameter Kaiming(long[] shape)
        {
            var p = new Parameter(empty(shape, device: device));
            nn.init.kaiming_uniform_(p, a: Math.Sqrt(5));
            return p;
        }

        using (no_grad())
        {
            if (settings.Flag("decompose_both") && r < Math.Max(outL, inM) / 2.0)
            {
                f["lokr_w1_a"] = Kaiming([outL, r]);
                f["lokr_w1_b"] = Kaiming([r, inM]);
            }
            else
            {
                f["lokr_w1"] = Kaiming([outL, inM]);
            }

            long kh = target.Kernel[0], kw = target.Kernel[1];
            var lowRank = r < Math.Max(outK, inN) / 2.0 && !fullMatrix;
            if (!lowRank)
            {
                f["lokr_w2"] = new Parameter(zeros(target.IsConv ? [outK, inN, kh, kw] : [outK, inN], device: device));
            }
            else if (target.IsSpatialConv && settings.Flag("use_tucker"))
            {
                f["lokr_t2"] = Kaiming([r, r, kh, kw]);
                f["lokr_w2_a"] = Kaiming([r, outK]);
                f["lokr_w2_b"] = new Parameter(zeros([r, inN], device: device));
            }
            else
            {
                f["lokr_w2_a"] = Kaiming([outK, r]);
                f["lokr_w2_b"] = new Parameter(zeros([r, target.IsConv ? inN * kh * kw : inN], device: device));
            }
        }

        // Both factors full: LyCORIS stores alpha = rank so that alpha/rank = 1.
        var bothFull = f.ContainsKey("lokr_w1") && f.ContainsKey("lokr_w2");
        return new LoKrModule(target, f, r, bothFull ? r : settings.ResolvedAlpha, settings.RankDropout, settings.ModuleDropout);
    }

    private static LoKrModule FromTensors(AdaptedLayer target, IReadOnlyDictionary<string, Tensor> tensors, string name)
    {
        var hasW1 = tensors.ContainsKey("lokr_w1") || (tensors.ContainsKey("lokr_w1_a") && tensors.ContainsKey("lokr_w1_b"));
        var hasW2 = tensors.ContainsKey("lokr_w2") || (tensors.ContainsKey("lokr_w2_a") && tensors.ContainsKey("lokr_w2_b"));
        if (!hasW1 || !hasW2)
        {
            throw new ArgumentException($"LoKr module '{name}' needs lokr_w1 (or lokr_w1_a and lokr_w1_b) and lokr_w2 (or lokr_w2_a and lokr_w2_b).");
        }

        var f = Names.Where(tensors.ContainsKey)
            .ToDictionary(n => n, n => ParameterFrom(tensors[n], [.. tensors[n].shape], name + "." + n, target), StringComparer.Ordinal);
        // The rank is that of a decomposed factor; with both factors full the scale is 1 (rank = alpha is irrelevant).
        var r = f.TryGetValue("lokr_w1_b", out var w1b) ? (int)w1b.shape[0]
            : f.TryGetValue("lokr_w2_b", out var w2b) ? (int)w2b.shape[0]
            : 1;
        var alpha = tensors.TryGetValue("alpha", out var a) && a.to(ScalarType.Float64).item<double>() is var v && v != 0 ? v : r;
        var module = new LoKrModule(target, f, r, alpha, 0, 0);
        module.CheckDeltaShape(name);
        return module;
    }
}
