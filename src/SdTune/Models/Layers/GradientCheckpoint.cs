using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>
/// Gradient checkpointing: trades compute for memory by keeping only a block's inputs during the forward pass and
/// recomputing the block's activations when backward reaches it. Gradients of inputs and of every parameter the block
/// uses (its own, and those of adapters hooked into its layers) equal those of the plain forward pass.
/// </summary>
/// <remarks>
/// <para>The block runs twice, so forward hooks fire twice; hooks must be pure functions of their inputs, parameters
/// and the torch RNG (LoRA hooks are). The CPU generator state (<c>torch.random</c>) is saved before the first run and
/// restored for the recompute, so dropout draws the same masks; afterwards the generator is put back where training
/// left it. TorchSharp exposes no CUDA generator state, so on CUDA a block with active dropout recomputes with
/// different masks: disable dropout there or accept approximate gradients.</para>
/// <para>Frozen inputs (no <c>requires_grad</c>, such as a frozen text encoder's context) get no gradient. When no
/// input requires a gradient, a zero-size anchor tensor that does is added, so the node stays in the graph and the
/// recompute can still deliver gradients to parameters: the block cannot see parameters that forward hooks add. A block
/// whose recomputed output turns out not to require a gradient is not back-propagated.</para>
/// </remarks>
public static class GradientCheckpoint
{
    /// <summary>Whether a module with checkpointing switched on should checkpoint now: in training mode with gradient recording on.</summary>
    /// <param name="module">The block.</param>
    public static bool IsActive(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.training && is_grad_enabled();
    }

    /// <summary>Runs a single-output block checkpointed.</summary>
    /// <param name="block">The block body: a pure function of its inputs, the parameters it uses and the torch RNG.
    /// It receives the inputs in the order given (null where absent) and must not checkpoint itself.</param>
    /// <param name="inputs">The block's tensor inputs; null entries are passed through as null.</param>
    /// <returns>The block's output, part of the autograd graph when gradients are recorded.</returns>
    public static Tensor Apply(Func<Tensor?[], Tensor> block, params Tensor?[] inputs)
    {
        ArgumentNullException.ThrowIfNull(block);
        return ApplyMany(x => [block(x)], inputs)[0];
    }

    /// <summary>Runs a block with several outputs checkpointed.</summary>
    /// <param name="block">The block body (see <see cref="Apply"/>); it must return the same number of tensors every time.</param>
    /// <param name="inputs">The block's tensor inputs; null entries are passed through as null.</param>
    /// <param name="preserveRngState">Save and restore the CPU generator so the recompute draws the same random numbers
    /// (needed for dropout; costs a few kilobytes per call).</param>
    /// <returns>The block's outputs.</returns>
    public static Tensor[] ApplyMany(Func<Tensor?[], Tensor[]> block, Tensor?[] inputs, bool preserveRngState = true)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(inputs);
        if (!is_grad_enabled())
        {
            // Nothing will be back-propagated: a plain call is the same thing without the bookkeeping.
            return block(inputs);
        }

        using var scope = NewDisposeScope();
        var needsGradient = inputs.Select(t => t is { IsInvalid: false, requires_grad: true }).ToArray();
        var anchor = needsGradient.Any(n => n) ? null : empty(0, requires_grad: true);
        byte[]? rng = null;
        if (preserveRngState)
        {
            using var state = random.get_rng_state();
            rng = state.bytes.ToArray();
        }

        var call = new CheckpointedCall(block, inputs.Length, needsGradient, rng, 1 + inputs.Length + (anchor is null ? 0 : 1));
        var arguments = new object?[call.ArgumentCount];
        arguments[0] = call;
        Array.Copy(inputs, 0, arguments, 1, inputs.Length);
        if (anchor is not null)
        {
            arguments[^1] = anchor;
        }

        // The scope also frees TorchSharp's per-output bookkeeping tensors right away.
        var outputs = CheckpointFunction.apply(arguments!);
        return [.. outputs.Select(o => o.MoveToOuterDisposeScope())];
    }
}
