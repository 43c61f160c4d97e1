namespace SdTune.Training.Optimization;

/// <summary>
/// An optimizer whose whole state (every moment tensor, step count and adaptive scalar) can be taken out and put
/// back, so a resumed run continues bit for bit as if it had never stopped.
/// </summary>
public interface IStatefulOptimizer : IDisposable
{
    /// <summary>The optimizer's name as users type it (for example "AdamW").</summary>
    string Name { get; }

    /// <summary>The parameter groups, each with its own learning rate.</summary>
    IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>Updates every parameter that has a gradient. Parameters without a gradient are left alone.</summary>
    void Step();

    /// <summary>Drops the gradients of all parameters (sets them to none, as PyTorch's <c>zero_grad()</c> does).</summary>
    void ZeroGrad();

    /// <summary>A copy of the full state; the caller owns (and disposes) it.</summary>
    OptimizerSnapshot GetState();

    /// <summary>Replaces the state with a copy of <paramref name="state"/> (taken from an optimizer of the same kind over the same parameters).</summary>
    /// <exception cref="InvalidDataException">The state belongs to another optimizer or does not fit the parameters; the message names the entry.</exception>
    void LoadState(OptimizerSnapshot state);
}
