using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>
/// What every adapter algorithm (LoRA, LoHa, LoKr, ...) shares: the layer it modifies, the alpha/rank scale, the
/// multiplier, module dropout, and two ways to act on the base model. <see cref="Attach"/> adds the adapter's output
/// to the layer's output through a forward hook, so the base weight is never touched and <see cref="Detach"/>
/// restores the model exactly. <see cref="Merge"/> bakes <c>multiplier · ΔW</c> into the weight for inference speed.
/// Subclasses define <see cref="DeltaWeight"/> and may override <see cref="forward"/> with a cheaper factorised path.
/// Parameter names are the algorithm's own (<c>lora_down.weight</c>, <c>hada_w1_a</c>, ...); which layer a module
/// belongs to is the network's business.
/// </summary>
public abstract class AdapterModule : nn.Module<Tensor, Tensor>
{
    private readonly Tensor alpha;
    private Action? removeHook;
    private double? mergedMultiplier;

    /// <summary>Registers the <c>alpha</c> buffer (a 0-d float32 tensor, as kohya and LyCORIS save it).</summary>
    /// <param name="name">Module name (the algorithm).</param>
    /// <param name="target">The layer this adapter modifies.</param>
    /// <param name="alpha">The stored alpha.</param>
    /// <param name="moduleDropout">Probability of skipping the whole module in a training step.</param>
    private protected AdapterModule(string name, AdaptedLayer target, double alpha, double moduleDropout)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (moduleDropout is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(moduleDropout), moduleDropout, "module_dropout must be in [0, 1).");
        }

        Target = target;
        ModuleDropout = moduleDropout;
        // Owned by the module, never by a caller's dispose scope.
        this.alpha = tensor((float)alpha, ScalarType.Float32, target.Weight.device).DetachFromDisposeScope();
        register_buffer("alpha", this.alpha);
    }

    /// <summary>The layer this adapter modifies.</summary>
    public AdaptedLayer Target { get; }

    /// <summary>Strength: the adapter adds <c>Multiplier · ΔW</c>. 1 by default.</summary>
    public double Multiplier { get; set; } = 1.0;

    /// <summary>Probability of skipping the whole module in a training step (kohya <c>module_dropout</c>).</summary>
    public double ModuleDropout { get; }

    /// <summary>The rank that divides alpha.</summary>
    public abstract int Rank { get; }

    /// <summary>The stored alpha.</summary>
    public double Alpha => alpha.device_type == DeviceType.META ? double.NaN : alpha.item<float>();

    /// <summary>The factor applied to the raw product: alpha / rank (algorithms may override, e.g. LoKr with two full factors).</summary>
    public virtual double Scale => Alpha / Rank;

    /// <summary>Whether the forward hook is installed.</summary>
    public bool IsAttached => removeHook is not null;

    /// <summary>Whether <c>Multiplier · ΔW</c> is currently baked into the layer's weight.</summary>
    public bool IsMerged => mergedMultiplier is not null;

    /// <summary>The scaled weight delta (alpha/rank applied, multiplier not), shaped like the layer's weight.</summary>
    public abstract Tensor DeltaWeight();

    /// <summary>
    /// The adapter's contribution to the layer output for <paramref name="input"/>, multiplier included. This default
    /// applies the layer's own operation with <c>Multiplier · ΔW</c> and no bias.
    /// </summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var delta = DeltaWeight();
        return Target.Apply(input, delta * Multiplier).MoveToOuterDisposeScope();
    }

    /// <summary>Installs the forward hook: the layer's output becomes <c>layer(x) + this(x)</c>.</summary>
    /// <exception cref="InvalidOperationException">Already attached, or merged.</exception>
    public void Attach()
    {
        if (IsAttached || IsMerged)
        {
            throw new InvalidOperationException($"The {GetName()} adapter is already {(IsMerged ? "merged into" : "attached to")} its layer.");
        }

        var remover = Target.Module.register_forward_hook((_, input, output) => AddContribution(input, output));
        removeHook = remover.remove;
    }

    /// <summary>Removes the forward hook; the layer computes exactly what it did before <see cref="Attach"/>.</summary>
    public void Detach()
    {
        removeHook?.Invoke();
        removeHook = null;
    }

    /// <summary>Adds <c>Multiplier · ΔW</c> to the layer's weight (computed in float32, stored in the weight's type).</summary>
    /// <exception cref="InvalidOperationException">Attached (the delta would count twice) or already merged.</exception>
    public void Merge()
    {
        if (IsAttached || IsMerged)
        {
            throw new InvalidOperationException($"The {GetName()} adapter is already {(IsMerged ? "merged into" : "attached to")} its layer.");
        }

        AddToWeight(Multiplier);
        mergedMultiplier = Multiplier;
    }

    /// <summary>Subtracts what <see cref="Merge"/> added (equal to the original weight up to float rounding).</summary>
    public void Unmerge()
    {
        if (mergedMultiplier is { } m)
        {
            AddToWeight(-m);
            mergedMultiplier = null;
        }
    }

    /// <summary>Whether this training step skips the module (module dropout).</summary>
    /// <summary>Registers a method's factor tensors as parameters, in <paramref name="order"/> (the saved key order).</summary>
    private protected void RegisterFactors(IReadOnlyDictionary<string, Parameter> factors, IEnumerable<string> order)
    {
        foreach (var name in order.Where(factors.ContainsKey))
        {
            factors[name].DetachFromDisposeScope();
            register_parameter(name, factors[name]);
        }
    }

    private protected bool SkipThisStep() =>
        training && ModuleDropout > 0 && rand(1).item<float>() < ModuleDropout;

    /// <summary>The dtype of the adapter's own parameters.</summary>
    private protected ScalarType ParameterType => parameters().FirstOrDefault()?.dtype ?? ScalarType.Float32;

    /// <summary>Copies <paramref name="source"/> (any dtype) into a new float32 parameter on the target's device, checking its shape.</summary>
    private protected static Parameter ParameterFrom(Tensor source, long[] expectedShape, string name, AdaptedLayer target)
    {
        if (!source.shape.SequenceEqual(expectedShape))
        {
            throw new ArgumentException($"Adapter tensor '{name}' has shape [{string.Join(", ", source.shape)}], expected [{string.Join(", ", expectedShape)}] for a layer with weight [{string.Join(", ", target.WeightShape)}].");
        }

        using var noGrad = no_grad();
        var parameter = new Parameter(source.detach().to(ScalarType.Float32, target.Weight.device).clone());
        parameter.DetachFromDisposeScope();
        return parameter;
    }

    /// <summary>
    /// Copies a stored tensor into a parameter, converting its type. A 1x1 convolution factor stored as a matrix is
    /// accepted (same numbers); any other shape difference is an error naming the tensor.
    /// </summary>
    private protected static void CopyInto(Parameter destination, Tensor source, string name, AdaptedLayer target)
    {
        var sameNumbers = source.numel() == destination.numel() && destination.dim() == 4 && source.dim() == 2
            && destination.shape[2] == 1 && destination.shape[3] == 1;
        if (!source.shape.SequenceEqual(destination.shape) && !sameNumbers)
        {
            throw new ArgumentException($"Adapter tensor '{name}' has shape [{string.Join(", ", source.shape)}], expected [{string.Join(", ", destination.shape)}] for a layer with weight [{string.Join(", ", target.WeightShape)}].");
        }

        using var noGrad = no_grad();
        destination.copy_(source.reshape(destination.shape).to(destination.dtype, destination.device));
    }

    /// <summary>Checks that stored factors give a delta of the layer's weight shape; the error names the module.</summary>
    private protected void CheckDeltaShape(string name)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long[] shape;
        try
        {
            shape = DeltaWeight().shape;
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            throw new ArgumentException($"The {GetName()} module '{name}' does not fit a layer with weight [{string.Join(", ", Target.WeightShape)}]: {e.Message}", e);
        }

        if (!shape.SequenceEqual(Target.WeightShape))
        {
            throw new ArgumentException($"The {GetName()} module '{name}' gives a delta of shape [{string.Join(", ", shape)}], but the layer's weight is [{string.Join(", ", Target.WeightShape)}].");
        }
    }

    private Tensor AddContribution(Tensor input, Tensor output)
    {
        if (SkipThisStep() || Multiplier == 0)
        {
            return output;
        }

        var own = ParameterType;
        var x = input.dtype == own ? input : input.to(own);
        var extra = forward(x);
        return output + (extra.dtype == output.dtype ? extra : extra.to(output.dtype));
    }

    private void AddToWeight(double factor)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var weight = Target.Weight;
        var delta = DeltaWeight().to(ScalarType.Float32, weight.device) * factor;
        weight.copy_((weight.to(ScalarType.Float32) + delta).to(weight.dtype));
    }
}
