using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>
/// AdaLoRA's rank allocation across a network's <see cref="AdaLoraModule"/>s. For every trainable entry w it tracks the
/// sensitivity <c>I = |w · ∂L/∂w|</c> smoothed, <c>Ī ← β1 Ī + (1 − β1) I</c>, and its uncertainty,
/// <c>Ū ← β2 Ū + (1 − β2) |I − Ī|</c>; a triplet's score is <c>s(λ_i) + mean_j s(P_ji) + mean_j s(Q_ij)</c> with
/// <c>s = Ī · Ū</c>. An allocation keeps the triplets with the highest scores across all layers, as many as the
/// budget, and zeroes the λ of the rest. Scores, uncertainties and masks are tensors, saved with the run's state.
/// </summary>
public sealed class AdaLoraAllocator : IDisposable
{
    private readonly IReadOnlyList<(string Name, AdaLoraModule Module)> modules;
    private readonly double beta1;
    private readonly double beta2;
    private readonly Dictionary<string, Tensor> state = new(StringComparer.Ordinal);

    /// <summary>Starts with zero scores and every triplet kept.</summary>
    /// <param name="modules">The modules with their names (unique), in a fixed order.</param>
    /// <param name="beta1">Smoothing of the sensitivity (PEFT default 0.85).</param>
    /// <param name="beta2">Smoothing of the uncertainty (PEFT default 0.85).</param>
    public AdaLoraAllocator(IReadOnlyList<(string Name, AdaLoraModule Module)> modules, double beta1, double beta2)
    {
        ArgumentNullException.ThrowIfNull(modules);
        this.modules = modules;
        this.beta1 = beta1;
        this.beta2 = beta2;
        foreach (var (name, module) in modules)
        {
            foreach (var (factor, parameter) in Factors(module))
            {
                state[$"{name}.{factor}.sensitivity"] = zeros_like(parameter).DetachFromDisposeScope();
                state[$"{name}.{factor}.uncertainty"] = zeros_like(parameter).DetachFromDisposeScope();
            }

            state[name + ".keep"] = ones([module.Rank], ScalarType.Float32, module.Lambda.device).DetachFromDisposeScope();
        }
    }

    /// <summary>The triplets kept per module (float 0/1 of length r), by module name.</summary>
    public Tensor Keep(string name) => state[name + ".keep"];

    /// <summary>The kept rank of every module, by name.</summary>
    public IReadOnlyDictionary<string, int> KeptRanks() =>
        modules.ToDictionary(m => m.Name, m => (int)Keep(m.Name).sum().item<float>(), StringComparer.Ordinal);

    /// <summary>Updates the smoothed sensitivities and uncertainties from the parameters' current gradients.</summary>
    public void UpdateScores()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (name, module) in modules)
        {
            foreach (var (factor, parameter) in Factors(module))
            {
                if (parameter.grad is not { } grad)
                {
                    continue;
                }

                // Scalars made explicitly and disposed at the end of the scope, not by the finaliser.
                using Scalar keep1 = beta1, new1 = 1 - beta1, keep2 = beta2, new2 = 1 - beta2;
                var sensitivity = (parameter * grad).abs();
                var average = state[$"{name}.{factor}.sensitivity"];
                average.mul_(keep1).add_(sensitivity, alpha: new1);
                state[$"{name}.{factor}.uncertainty"].mul_(keep2).add_((sensitivity - average).abs(), alpha: new2);
            }
        }
    }

    /// <summary>The score of every triplet of a module, float [r].</summary>
    public Tensor Scores(string name)
    {
        using var scope = NewDisposeScope();
        Tensor S(string factor) => state[$"{name}.{factor}.sensitivity"] * state[$"{name}.{factor}.uncertainty"];
        var lambda = S("lora_E").reshape(-1);
        var p = S("lora_B").mean([0]);
        var q = S("lora_A").mean([1]);
        return (lambda + p + q).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Keeps the <paramref name="budget"/> highest-scoring triplets across all modules (ties go to the earlier module
    /// and triplet), records the masks and zeroes the λ of the others.
    /// </summary>
    public void Allocate(int budget)
    {
        using var scope = NewDisposeScope();
        var all = cat(modules.Select(m => Scores(m.Name)).ToList(), 0);
        var order = all.sort(0, descending: true, stable: true).Indices;
        var keep = zeros_like(all);
        var count = Math.Clamp(budget, 0, (int)all.shape[0]);
        if (count > 0)
        {
            keep.index_fill_(0, order.narrow(0, 0, count), 1);
        }

        long offset = 0;
        foreach (var (name, module) in modules)
        {
            state[name + ".keep"].copy_(keep.narrow(0, offset, module.Rank));
            offset += module.Rank;
        }

        ApplyMasks();
    }

    /// <summary>Zeroes the λ of every masked triplet (the final phase does this after every step).</summary>
    public void ApplyMasks()
    {
        foreach (var (name, module) in modules)
        {
            module.Mask(Keep(name));
        }
    }

    /// <summary>
    /// The allocator's live tensors, named <c>&lt;module&gt;.&lt;factor&gt;.sensitivity|uncertainty</c> and
    /// <c>&lt;module&gt;.keep</c>: what a resumable state saves and restores.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Tensors => state;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var tensor in state.Values)
        {
            tensor.Dispose();
        }

        state.Clear();
    }

    private static IEnumerable<(string Factor, Parameter Parameter)> Factors(AdaLoraModule module) =>
        [("lora_A", module.Q), ("lora_E", module.Lambda), ("lora_B", module.P)];
}
