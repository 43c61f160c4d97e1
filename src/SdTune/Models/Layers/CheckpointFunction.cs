using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>
/// The autograd node behind <see cref="GradientCheckpoint"/>: forward runs the block without recording a graph and keeps
/// only its inputs; backward runs the block again with gradients enabled (and the RNG state of the first run) and
/// back-propagates the incoming gradients through that fresh graph. Parameters used by the block are not arguments of
/// the node: the inner backward accumulates into their <c>.grad</c> directly.
/// </summary>
/// <remarks>
/// apply() arguments are <c>[CheckpointedCall, input 0, ..., input n-1, anchor?]</c>; backward returns one entry per
/// argument (null for the call and for inputs that need no gradient), as TorchSharp requires.
/// </remarks>
internal sealed class CheckpointFunction : autograd.MultiTensorFunction<CheckpointFunction>
{
    private const string CallKey = "call";

    [ThreadStatic]
    private static List<Tensor>? returnedGradients;

    public override string Name => nameof(CheckpointFunction);

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var call = (CheckpointedCall)vars[0];
        ctx.save_data(CallKey, call);
        // Undefined output gradients are handled in backward; materialising them would read TorchSharp's cached
        // empty outputs, which the caller's dispose scope may already have freed.
        ctx.set_materialize_grads(false);
        var inputs = vars.Skip(1).Take(call.InputCount).Select(v => v as Tensor).ToArray();
        ctx.save_for_backward([.. inputs.Select(t => t!)]);

        // apply() already turned gradient recording off.
        using var scope = NewDisposeScope();
        var outputs = call.Block(inputs);
        if (outputs.Length == 0)
        {
            throw new InvalidOperationException("A checkpointed block must return at least one tensor.");
        }

        scope.MoveToOuter(outputs);
        return [.. outputs];
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grad_outputs)
    {
        // The previous node's gradients were copied by the autograd engine when its backward returned.
        ReleaseReturnedGradients();
        var call = (CheckpointedCall)ctx.get_data(CallKey);
        var gradients = new List<Tensor>(call.ArgumentCount) { null! };
        using (var scope = NewDisposeScope())
        {
            var saved = ctx.get_saved_variables();
            var leaves = new Tensor?[call.InputCount];
            for (var i = 0; i < leaves.Length; i++)
            {
                if (saved[i] is not { IsInvalid: false } input)
                {
                    continue;
                }

                // Fresh leaves cut the recomputed graph off from the outer one; only inputs that needed a gradient get one.
                var leaf = input.detach();
                leaves[i] = call.InputNeedsGradient[i] ? leaf.requires_grad_(true) : leaf;
            }

            Recompute(call, leaves, grad_outputs);

            // TorchSharp wraps the incoming gradients in the caller's dispose scope (the training step's), where they
            // would keep every block's output gradient alive until the step ends; the engine holds its own references.
            foreach (var incoming in grad_outputs)
            {
                incoming?.Dispose();
            }

            foreach (var (leaf, needsGradient) in leaves.Zip(call.InputNeedsGradient))
            {
                var gradient = needsGradient ? leaf?.grad : null;
                if (gradient is not null)
                {
                    // Handed to the engine, which copies them once this method returns; disposed by the next call.
                    gradient.DetachFromDisposeScope();
                    (returnedGradients ??= []).Add(gradient);
                }

                gradients.Add(gradient!);
            }
        }

        while (gradients.Count < call.ArgumentCount)
        {
            gradients.Add(null!);
        }

        return gradients;
    }

    /// <summary>
    /// Disposes this thread's handles of the input gradients the last backward call returned. The engine took its own
    /// references when that call returned; without this the handles would sit in the caller's dispose scope (the
    /// training step's) and keep every checkpointed block's input gradient alive until the step ends. The last call's
    /// handles (one block's input gradients) wait for the next backward on the thread.
    /// </summary>
    private static void ReleaseReturnedGradients()
    {
        if (returnedGradients is not { Count: > 0 } pending)
        {
            return;
        }

        foreach (var gradient in pending)
        {
            gradient.Dispose();
        }

        pending.Clear();
    }

    private static void Recompute(CheckpointedCall call, Tensor?[] leaves, List<Tensor> gradOutputs)
    {
        Tensor? stateAfterForward = null;
        if (call.RngState is { } rng)
        {
            // The recompute must draw the same dropout masks as the first run, and must not move the generator the
            // rest of training sees.
            stateAfterForward = random.get_rng_state();
            using var state = tensor(rng, ScalarType.Byte);
            random.set_rng_state(state);
        }

        try
        {
            Tensor[] outputs;
            using (enable_grad())
            {
                outputs = call.Block(leaves);
            }

            if (outputs.Length != gradOutputs.Count)
            {
                throw new InvalidOperationException($"A checkpointed block returned {gradOutputs.Count} tensors in forward but {outputs.Length} when recomputed.");
            }

            var roots = new List<Tensor>();
            var seeds = new List<Tensor>();
            for (var i = 0; i < outputs.Length; i++)
            {
                // An output without a gradient, or one nothing in the block can influence (all frozen), needs no backward.
                if (outputs[i].requires_grad && gradOutputs[i] is { IsInvalid: false } seed)
                {
                    roots.Add(outputs[i]);
                    seeds.Add(seed);
                }
            }

            if (roots.Count > 0)
            {
                autograd.backward(roots, seeds);
            }
        }
        finally
        {
            if (stateAfterForward is not null)
            {
                random.set_rng_state(stateAfterForward);
                stateAfterForward.Dispose();
            }
        }
    }
}
