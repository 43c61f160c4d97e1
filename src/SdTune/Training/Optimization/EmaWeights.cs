using SdTune.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>
/// An exponential moving average of model weights, as diffusers' <c>EMAModel</c> keeps it. After each optimizer step
/// call <see cref="Step"/>; to sample with the averaged weights, <see cref="Store"/> the live ones,
/// <see cref="CopyTo"/>, sample, then <see cref="Restore"/>. The average has the parameters' dtype and device.
/// </summary>
public sealed class EmaWeights : IDisposable
{
    private const string StepKey = "optimization_step";
    private readonly List<Tensor> shadow;
    private List<Tensor>? stored;
    private bool disposed;

    /// <summary>Starts the average at the current values of <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range or there are no parameters.</exception>
    public EmaWeights(IEnumerable<Parameter> parameters, EmaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Options = options ?? new EmaOptions();
        Options.Validate();
        using var noGrad = no_grad();
        shadow = [.. parameters.Select(p => p.detach().clone().DetachFromDisposeScope())];
        if (shadow.Count == 0)
        {
            throw new ArgumentException("EMA needs at least one parameter.", nameof(parameters));
        }
    }

    /// <summary>The settings.</summary>
    public EmaOptions Options { get; }

    /// <summary>Number of <see cref="Step"/> calls so far (diffusers' <c>optimization_step</c>).</summary>
    public long OptimizationStep { get; private set; }

    /// <summary>The decay the last <see cref="Step"/> used.</summary>
    public double CurrentDecay { get; private set; }

    /// <summary>The averaged weights, in parameter order (owned by this object).</summary>
    public IReadOnlyList<Tensor> ShadowParameters => shadow;

    /// <summary>The decay used by the step that brings the count to <paramref name="optimizationStep"/>.</summary>
    public double DecayAt(long optimizationStep)
    {
        var step = Math.Max(0, optimizationStep - Options.UpdateAfterStep - 1);
        if (step <= 0)
        {
            return 0.0;
        }

        var decay = Options.UseEmaWarmup
            ? 1 - Math.Pow(1 + (step / Options.InvGamma), -Options.Power)
            : (1.0 + step) / (10.0 + step);
        return Math.Max(Math.Min(decay, Options.Decay), Options.MinDecay);
    }

    /// <summary>Moves the average towards <paramref name="parameters"/>: shadow -= (1 - decay) * (shadow - param). Parameters that do not require gradients are copied.</summary>
    /// <exception cref="ArgumentException">The parameters do not match those the average was made from.</exception>
    public void Step(IEnumerable<Parameter> parameters)
    {
        var list = Match(parameters);
        OptimizationStep++;
        CurrentDecay = DecayAt(OptimizationStep);
        var oneMinusDecay = 1 - CurrentDecay;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var scalars = new HeldScalars();
        var factor = scalars[oneMinusDecay];
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].requires_grad)
            {
                shadow[i].sub_((shadow[i] - list[i]).mul_(factor));
            }
            else
            {
                shadow[i].copy_(list[i]);
            }
        }
    }

    /// <summary>Writes the averaged weights into <paramref name="parameters"/>.</summary>
    public void CopyTo(IEnumerable<Parameter> parameters)
    {
        var list = Match(parameters);
        using var noGrad = no_grad();
        for (var i = 0; i < list.Count; i++)
        {
            list[i].copy_(shadow[i]);
        }
    }

    /// <summary>Keeps a CPU copy of <paramref name="parameters"/> for <see cref="Restore"/> (replacing an earlier copy).</summary>
    public void Store(IEnumerable<Parameter> parameters)
    {
        var list = Match(parameters);
        DisposeStored();
        using var noGrad = no_grad();
        stored = [.. list.Select(p => p.detach().cpu().clone().DetachFromDisposeScope())];
    }

    /// <summary>Puts the values saved by <see cref="Store"/> back into <paramref name="parameters"/> and drops the copy.</summary>
    /// <exception cref="InvalidOperationException">Nothing was stored.</exception>
    public void Restore(IEnumerable<Parameter> parameters)
    {
        var list = Match(parameters);
        if (stored is null)
        {
            throw new InvalidOperationException("EMA: Restore() without a preceding Store().");
        }

        using var noGrad = no_grad();
        for (var i = 0; i < list.Count; i++)
        {
            list[i].copy_(stored[i]);
        }

        DisposeStored();
    }

    /// <summary>A copy of the state for resuming: <c>shadow.{i}</c> tensors and <c>optimization_step</c> (0-d int64). The caller owns the tensors.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var noGrad = no_grad();
        var entries = shadow.Select((s, i) => new KeyValuePair<string, Tensor>($"shadow.{i}", s.clone())).ToList();
        entries.Add(new(StepKey, tensor(OptimizationStep, ScalarType.Int64)));
        return entries;
    }

    /// <summary>Restores a state from <see cref="GetState"/> (copied; the caller keeps ownership).</summary>
    /// <exception cref="InvalidDataException">An entry is missing, unknown or has the wrong shape; the message names it.</exception>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!state.TryGetValue(StepKey, out var step) || step.dtype != ScalarType.Int64 || step.dim() != 0)
        {
            throw new InvalidDataException($"EMA state lacks a 0-d Int64 '{StepKey}'.");
        }

        var unknown = state.Keys.FirstOrDefault(k => k != StepKey && !(k.StartsWith("shadow.", StringComparison.Ordinal)
            && int.TryParse(k["shadow.".Length..], out var i) && i >= 0 && i < shadow.Count && k == $"shadow.{i}"));
        if (unknown is not null)
        {
            throw new InvalidDataException($"EMA state: unknown entry '{unknown}' (the average has {shadow.Count} tensors).");
        }

        for (var i = 0; i < shadow.Count; i++)
        {
            if (!state.TryGetValue($"shadow.{i}", out var value))
            {
                throw new InvalidDataException($"EMA state lacks 'shadow.{i}'.");
            }

            if (!value.shape.SequenceEqual(shadow[i].shape))
            {
                throw new InvalidDataException($"EMA state: 'shadow.{i}' has shape [{string.Join(", ", value.shape)}], the parameter [{string.Join(", ", shadow[i].shape)}].");
            }
        }

        using var noGrad = no_grad();
        for (var i = 0; i < shadow.Count; i++)
        {
            shadow[i].copy_(state[$"shadow.{i}"]);
        }

        OptimizationStep = step.item<long>();
        CurrentDecay = OptimizationStep > 0 ? DecayAt(OptimizationStep) : 0.0;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var tensor in shadow)
        {
            tensor.Dispose();
        }

        DisposeStored();
    }

    private List<Parameter> Match(IEnumerable<Parameter> parameters)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(parameters);
        var list = parameters.ToList();
        if (list.Count != shadow.Count)
        {
            throw new ArgumentException($"EMA holds {shadow.Count} tensors but was given {list.Count} parameters.", nameof(parameters));
        }

        for (var i = 0; i < list.Count; i++)
        {
            if (!list[i].shape.SequenceEqual(shadow[i].shape))
            {
                throw new ArgumentException($"EMA: parameter {i} has shape [{string.Join(", ", list[i].shape)}] but its average [{string.Join(", ", shadow[i].shape)}].", nameof(parameters));
            }
        }

        return list;
    }

    private void DisposeStored()
    {
        if (stored is null)
        {
            return;
        }

        foreach (var tensor in stored)
        {
            tensor.Dispose();
        }

        stored = null;
    }
}
