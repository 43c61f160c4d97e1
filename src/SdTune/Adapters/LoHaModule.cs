using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>
/// LoHa (LyCORIS, low-rank Hadamard product): <c>ΔW = (w1_a · w1_b) ⊙ (w2_a · w2_b) · alpha/rank</c>, reshaped to the
/// layer's weight; for a convolution <c>w?_b</c> is [rank, in·kh·kw]. With Tucker (<c>use_tucker</c>, spatial convs only)
/// each factor is <c>Σ t[p,q,kh,kw] · w_a[p,o] · w_b[q,i]</c> with <c>w_a</c> [rank, out] and <c>w_b</c> [rank, in].
/// Fresh modules follow LyCORIS' initialisation, with <c>hada_w2_a</c> the zero factor.
/// </summary>
public sealed class LoHaModule : AdapterModule
{
    private static readonly string[] Names = ["hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2"];

    private readonly Dictionary<string, Parameter> factors;
    private readonly int rank;
    private readonly double rankDropout;

    private LoHaModule(AdaptedLayer target, Dictionary<string, Parameter> factors, int rank, double alpha, double rankDropout, double moduleDropout)
        : base("loha", target, alpha, moduleDropout)
    {
        this.factors = factors;
        this.rank = rank;
        this.rankDropout = rankDropout;
        RegisterFactors(factors, Names);
    }

    /// <summary>The algorithm's registration: recognised by <c>hada_w1_a</c>; kohya module <c>lycoris.kohya</c>.</summary>
    public static AdapterAlgorithm Algorithm { get; } = new(
        "loha",
        "lycoris.kohya",
        [.. Names, "alpha"],
        keys => keys.Contains("hada_w1_a"),
        Create,
        FromTensors,
        ["hada_w1_a"]);

    /// <inheritdoc />
    public override int Rank => rank;

    /// <summary>Whether the factors are in Tucker form.</summary>
    public bool IsTucker => factors.ContainsKey("hada_t1");

    /// <inheritdoc />
    public override Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        var shape = Target.WeightShape;
        Tensor product;
        if (IsTucker)
        {
            product = Rebuild(factors["hada_t1"], factors["hada_w1_a"], factors["hada_w1_b"]) * Rebuild(factors["hada_t2"], factors["hada_w2_a"], factors["hada_w2_b"]);
        }
        else
        {
            product = (factors["hada_w1_a"].matmul(factors["hada_w1_b"]) * factors["hada_w2_a"].matmul(factors["hada_w2_b"])).reshape(shape);
        }

        var delta = product * Scale;
        if (training && rankDropout > 0)
        {
            // LyCORIS drops whole output channels of ΔW.
            var keep = (rand(shape[0], device: delta.device) > rankDropout).to(delta.dtype);
            delta = delta * keep.view([shape[0], .. Enumerable.Repeat(1L, shape.Length - 1)]);
        }

        return delta.MoveToOuterDisposeScope();
    }

    /// <summary>Tucker factor: R[o,i,kh,kw] = Σ_{p,q} t[p,q,kh,kw] · w_a[p,o] · w_b[q,i].</summary>
    private static Tensor Rebuild(Tensor t, Tensor wa, Tensor wb) => einsum("pqhw,po,qi->oihw", t, wa, wb);

    private static LoHaModule Create(AdaptedLayer target, AdapterSettings settings)
    {
        var r = settings.Rank;
        if (r < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), r, "The LoHa rank must be at least 1.");
        }

        var device = target.Weight.device;
        var tucker = settings.Flag("use_tucker") && target.IsSpatialConv;
        var inner = target.IsConv && !tucker ? target.InFeatures * target.Kernel[0] * target.Kernel[1] : target.InFeatures;
        var f = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        using (no_grad())
        {
            if (tucker)
            {
                f["hada_t1"] = new Parameter(randn([r, r, target.Kernel[0], target.Kernel[1]], device: device) * 0.1);
                f["hada_t2"] = new Parameter(randn([r, r, target.Kernel[0], target.Kernel[1]], device: device) * 0.1);
                f["hada_w1_a"] = new Parameter(randn([r, target.OutFeatures], device: device) * 0.1);
                f["hada_w1_b"] = new Parameter(randn([r, inner], device: device));
                f["hada_w2_a"] = new Parameter(zeros([r, target.OutFeatures], device: device));
                f["hada_w2_b"] = new Parameter(randn([r, inner], device: device));
            }
            else
            {
                f["hada_w1_a"] = new Parameter(randn([target.OutFeatures, r], device: device) * 0.1);
                f["hada_w1_b"] = new Parameter(randn([r, inner], device: device));
                f["hada_w2_a"] = new Parameter(zeros([target.OutFeatures, r], device: device));
                f["hada_w2_b"] = new Parameter(randn([r, inner], device: device));
            }
        }

        return new LoHaModule(target, f, r, settings.ResolvedAlpha, settings.RankDropout, settings.ModuleDropout);
    }

    private static LoHaModule FromTensors(AdaptedLayer target, IReadOnlyDictionary<string, Tensor> tensors, string name)
    {
        var tucker = tensors.ContainsKey("hada_t1");
        var required = tucker ? Names : Names[..4];
        var missing = required.Where(n => !tensors.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException($"LoHa module '{name}' lacks {string.Join(", ", missing)}.");
        }

        var f = required.ToDictionary(n => n, n => ParameterFrom(tensors[n], [.. tensors[n].shape], name + "." + n, target), StringComparer.Ordinal);
        var r = (int)f["hada_w1_b"].shape[0];
        var alpha = tensors.TryGetValue("alpha", out var a) && a.to(ScalarType.Float64).item<double>() is var v && v != 0 ? v : r;
        var module = new LoHaModule(target, f, r, alpha, 0, 0);
        module.CheckDeltaShape(name);
        return module;
    }
}
