using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>
/// One AdaLoRA triplet set on a Linear layer (Zhang et al., ICLR 2023): <c>ΔW = P · diag(λ) · Q · alpha / r</c> with
/// <c>lora_A</c> = Q [r, in], <c>lora_E</c> = λ [r, 1] and <c>lora_B</c> = P [out, r] (PEFT's names), r being the
/// initial rank. λ starts at zero (a fresh module changes nothing), P and Q at N(0, 0.02²). Triplets outside the rank
/// budget have their λ set to zero by <see cref="Mask"/>; the scale keeps dividing by the initial rank, so masking
/// does not rescale the kept triplets. <see cref="ToLora"/> folds the kept triplets into a standard LoRA module.
/// </summary>
public sealed class AdaLoraModule : AdapterModule
{
    private readonly Parameter lora_A;
    private readonly Parameter lora_E;
    private readonly Parameter lora_B;
    private readonly int rank;

    /// <summary>Creates a trainable module for a Linear <paramref name="target"/> with initial rank <paramref name="rank"/>.</summary>
    /// <param name="target">The layer to adapt (Linear).</param>
    /// <param name="rank">The initial rank r.</param>
    /// <param name="alpha">The scale's numerator (scale = alpha / r).</param>
    /// <exception cref="ArgumentException">The layer is a convolution or the rank is below 1.</exception>
    public AdaLoraModule(AdaptedLayer target, int rank, double alpha)
        : base("adalora", target, alpha, moduleDropout: 0)
    {
        if (target.IsConv)
        {
            throw new ArgumentException("AdaLoRA adapts Linear layers only.", nameof(target));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        this.rank = rank;
        var device = target.Weight.device;
        lora_A = new Parameter(normal(0, 0.02, [rank, target.InFeatures], ScalarType.Float32, device));
        lora_E = new Parameter(zeros([rank, 1], ScalarType.Float32, device));
        lora_B = new Parameter(normal(0, 0.02, [target.OutFeatures, rank], ScalarType.Float32, device));
        RegisterFactors(new Dictionary<string, Parameter> { ["lora_A"] = lora_A, ["lora_E"] = lora_E, ["lora_B"] = lora_B }, ["lora_A", "lora_E", "lora_B"]);
    }

    /// <inheritdoc />
    public override int Rank => rank;

    /// <summary>Q, the right singular vectors [r, in] (PEFT <c>lora_A</c>).</summary>
    public Parameter Q => lora_A;

    /// <summary>λ, the singular values [r, 1] (PEFT <c>lora_E</c>).</summary>
    public Parameter Lambda => lora_E;

    /// <summary>P, the left singular vectors [out, r] (PEFT <c>lora_B</c>).</summary>
    public Parameter P => lora_B;

    /// <inheritdoc />
    public override Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        return (lora_B.matmul(lora_A * lora_E) * Scale).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = nn.functional.linear(input, lora_A * lora_E);
        return (nn.functional.linear(hidden, lora_B) * (Multiplier * Scale)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The orthogonality regulariser as PEFT computes it: <c>‖PᵀP − I‖_F + ‖QQᵀ − I‖_F</c> (Frobenius norms, not squared as
    /// in the paper), a float32 scalar with gradients. The method averages it over the adapted matrices (two per layer).
    /// </summary>
    public Tensor OrthogonalityPenalty()
    {
        using var scope = NewDisposeScope();
        var identity = eye(rank, dtype: ScalarType.Float32, device: lora_A.device);
        var p = (lora_B.t().matmul(lora_B) - identity).norm();
        var q = (lora_A.matmul(lora_A.t()) - identity).norm();
        return (p + q).MoveToOuterDisposeScope();
    }

    /// <summary>Sets λ of every triplet whose <paramref name="keep"/> entry is 0 to zero (keep: float [r] of 0/1).</summary>
    public void Mask(Tensor keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        using var noGrad = no_grad();
        lora_E.mul_(keep.reshape(rank, 1).to(lora_E.dtype, lora_E.device));
    }

    /// <summary>
    /// The kept triplets as a standard LoRA module with their count as rank and alpha (so the consumer's alpha / rank
    /// factor is 1): <c>up = scale · P[:, kept] · diag(λ_kept)</c>, <c>down = Q[kept, :]</c>, whose product is this
    /// module's delta exactly. Null when no triplet is kept.
    /// </summary>
    /// <param name="keep">float [r] of 0/1: the triplets to keep.</param>
    public LoraModule? ToLora(Tensor keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var count = (int)keep.sum().item<float>();
        if (count == 0)
        {
            return null;
        }

        // Made outside the scope below, which would otherwise own its weights.
        var module = new LoraModule(Target, new AdapterSettings(count, count));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var kept = keep.to(ScalarType.Bool, lora_E.device).reshape(rank).nonzero().reshape(-1);
        module.UpWeight.copy_(lora_B.index_select(1, kept) * lora_E.index_select(0, kept).reshape(1, count) * Scale);
        module.DownWeight.copy_(lora_A.index_select(0, kept));
        return module;
    }
}
